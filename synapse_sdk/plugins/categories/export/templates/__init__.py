"""Classes export plugins subclass: ``BaseExporter``."""
