"""Where actions run: in this process, or as a detached background job."""
