"""``synapse data``: populate and inspect the data platform (storages, collections, projects, tasks).

A thin shell over :class:`~synapse_sdk.clients.backend.BackendClient` (the embedded platform
under ``SYNAPSE_HOME``, or ``SYNAPSE_HOST``) and
:func:`~synapse_sdk.clients.backend.imports.import_coco`. Every listing takes ``--json``;
``--project`` and ``--collection`` take an id or a name.
"""

from __future__ import annotations

import typer

from synapse_sdk.cli.data import data_collections, imports, listings, projects, samples, storages

app = typer.Typer(
    help="Populate and inspect the data platform: storages, collections, projects, tasks, imports, samples.",
    no_args_is_help=True,
)
app.add_typer(storages.app, name="storages")
app.add_typer(data_collections.app, name="collections")
app.add_typer(projects.app, name="projects")
app.add_typer(listings.tasks, name="tasks")
app.add_typer(listings.data_units, name="data-units")
app.add_typer(imports.app, name="import")
app.add_typer(samples.app, name="sample")
