"""The database: schema, engine and the queries that api and worker share."""
