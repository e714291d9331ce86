import psycopg


def test_cluster_serves_a_fresh_database(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        assert conn.execute("SELECT current_database()").fetchone()[0].startswith("t_")
