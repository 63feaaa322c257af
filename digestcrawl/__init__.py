"""digestcrawl: watch the web for news about AI models and write a daily digest per model."""
