"""What fetching needs: spider arguments, source URLs, feeds and listings, the network guard,
retries, incremental crawls, the extraction pool, distributed scheduling.
"""
