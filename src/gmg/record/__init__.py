"""The GMG record bundle: its source documents, format, loader and exporter."""
