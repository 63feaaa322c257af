"""Group a day's articles into stories: similarity, countries, first-party releases joined."""
