"""The bundled demo: a local news site (Arabic and English) served on 127.0.0.1, whose articles change."""
