"""The crawl's own signals, in the manner of `scrapy.signals`."""

# Sent by the pipeline once per item it has handled, with `item` and `outcome` (a
# texts.vocabulary outcome, "entry-page" or "withdrawn-already"); progress reporting listens.
item_recorded = object()
