"""Serving ``restapi`` actions: the FastAPI app, uvicorn on this machine, Ray Serve on a cluster."""
