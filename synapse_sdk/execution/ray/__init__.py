"""Running actions on a Ray cluster: jobs through the Jobs API, tasks as remote functions."""
