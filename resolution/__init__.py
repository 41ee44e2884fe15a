"""Entity resolution: names of drugs and customers to the records they mean.

Below ``ingest`` and ``retrieval`` (both use it): imports only ``graph``.

- ``drug_names`` parses the names a distributor's ERP writes (brand, generic, salt, form, strength, pack, maker,
  notes); ``nrdl_match`` decides, for each product, the one row of a national reimbursement list (NRDL) edition it
  belongs to, or that it is not listed, or that a person must look (``review``), with the reason either way.
- ``product_resolver`` finds catalogue products in free text (interaction summaries at ingest: MENTIONS edges);
  ``mentions`` is its looser query-time form (abbreviations, one-character typos) that retrieval uses to boost
  entries about the products a rep's query names.
- ``customers`` finds likely duplicate customers within a city (reported, never merged automatically).
- ``cleaning`` holds the name text normalisation the resolvers share.
"""
