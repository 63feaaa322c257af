"""The database: SQLAlchemy models and the article store, migrations, spool, run lock, field caps.
"""
