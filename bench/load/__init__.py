"""Load test: locust against gunicorn + PostgreSQL on loopback (bench/README.md)."""
