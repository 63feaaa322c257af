"""Article extraction in worker processes: the pool the spider feeds, and the worker it starts."""
