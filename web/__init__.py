"""HK AI Trends: the tracker's pages inside the Airflow UI (a FastAPI app mounted at /hkai by
plugins/hkai_trends.py), and `make ui`'s launcher (launch.py).

Reads go through the warehouse's public interfaces (marts, search, export, dictionary) and the
digest's selection, so the pages show what the digest and `hkai trends` show.
"""
