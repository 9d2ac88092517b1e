"""The seven plugin categories, the actions each one defines and the methods each one allows."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """A plugin's category, as written in ``config.yaml``."""

    NEURAL_NET = "neural_net"
    EXPORT = "export"
    UPLOAD = "upload"
    SMART_TOOL = "smart_tool"
    PRE_ANNOTATION = "pre_annotation"
    POST_ANNOTATION = "post_annotation"
    DATA_VALIDATION = "data_validation"


METHODS: tuple[str, ...] = ("job", "task", "restapi")

#: The spec's actions of each category, in the order the spec lists them.
CATEGORY_ACTIONS: dict[Category, tuple[str, ...]] = {
    Category.NEURAL_NET: ("deployment", "gradio", "inference", "test", "train", "tune"),
    Category.EXPORT: ("export",),
    Category.UPLOAD: ("upload",),
    Category.SMART_TOOL: ("auto_label",),
    Category.PRE_ANNOTATION: ("pre_annotation", "to_task"),
    Category.POST_ANNOTATION: ("post_annotation",),
    Category.DATA_VALIDATION: ("validation",),
}

#: Where each category's base action classes live (module per category, class per action).
BASE_ACTIONS: dict[tuple[Category, str], str] = {
    (
        Category.NEURAL_NET,
        "deployment",
    ): "synapse_sdk.plugins.categories.neural_net:DeploymentAction",
    (Category.NEURAL_NET, "gradio"): "synapse_sdk.plugins.categories.neural_net:GradioAction",
    (Category.NEURAL_NET, "inference"): "synapse_sdk.plugins.categories.neural_net:InferenceAction",
    (Category.NEURAL_NET, "test"): "synapse_sdk.plugins.categories.neural_net:TestAction",
    (Category.NEURAL_NET, "train"): "synapse_sdk.plugins.categories.neural_net:TrainAction",
    (Category.NEURAL_NET, "tune"): "synapse_sdk.plugins.categories.neural_net:TuneAction",
    (Category.EXPORT, "export"): "synapse_sdk.plugins.categories.export:ExportAction",
    (Category.UPLOAD, "upload"): "synapse_sdk.plugins.categories.upload:UploadAction",
    (
        Category.SMART_TOOL,
        "auto_label",
    ): "synapse_sdk.plugins.categories.smart_tool:AutoLabelAction",
    (
        Category.PRE_ANNOTATION,
        "pre_annotation",
    ): "synapse_sdk.plugins.categories.pre_annotation:PreAnnotationAction",
    (
        Category.PRE_ANNOTATION,
        "to_task",
    ): "synapse_sdk.plugins.categories.pre_annotation:ToTaskAction",
    (
        Category.POST_ANNOTATION,
        "post_annotation",
    ): "synapse_sdk.plugins.categories.post_annotation:PostAnnotationAction",
    (
        Category.DATA_VALIDATION,
        "validation",
    ): "synapse_sdk.plugins.categories.data_validation:ValidationAction",
}

#: The method a new action of each spec action name gets by default (templates use it).
DEFAULT_METHODS: dict[str, str] = {
    "train": "job",
    "tune": "job",
    "test": "job",
    "inference": "restapi",
    "deployment": "restapi",
    "gradio": "restapi",
    "export": "job",
    "upload": "job",
    "auto_label": "task",
    "pre_annotation": "job",
    "to_task": "job",
    "post_annotation": "job",
    "validation": "task",
}
