"""Drug-name resolution: product-master names taken apart, and matched to a formulary list by the list's own rules.

Below both ``ingest`` and ``retrieval``: imports only ``graph``. ``drug_names`` parses the names a distributor's ERP
writes (brand, generic, salt, form, strength, pack, maker, notes); ``nrdl_match`` decides, for each product, the one
row of a national reimbursement list (NRDL) edition it belongs to, or that it is not listed, or that a person must
look (``review``), with the reason either way.
"""
