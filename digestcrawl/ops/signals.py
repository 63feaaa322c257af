"""digestcrawl's own signals, sent through ``crawler.signals``."""

# Pages that passed the pipelines before they turned out to be walls (``boilerplate.RepeatedWalls``),
# sent with ``urls`` (list[str]): the store writes none of them and deletes those it wrote.
articles_retracted = object()
