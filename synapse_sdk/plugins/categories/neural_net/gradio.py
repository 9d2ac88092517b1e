"""The ``gradio`` base action of the ``neural_net`` category: a web page to try a registered model.

``{"launch": true}`` serves a Gradio app on ``host:port`` (127.0.0.1:7860 by default) until the
run is stopped (``synapse job stop``, Ctrl-C): upload or draw an image, see the predicted class
and every class's score. Without ``launch`` the action builds the same app and runs an image
(``image``, base64; default a blank one) through the function the page calls, then returns:
a quick check that the model and the app work. Gradio comes with ``pip install
'synapse-plugin-sdk[gradio]'``; it is imported only here.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action

if TYPE_CHECKING:
    from pathlib import Path

    from synapse_sdk.plugins.categories.neural_net.predictor import Predictor

#: The id of the page element that shows the predicted class (what a browser test reads).
CLASS_ELEMENT = "predicted-class"


class GradioParams(BaseModel):
    """Which model, and whether to serve the page or only check it."""

    model_config = ConfigDict(extra="forbid")

    model: int | None = Field(None, description="a registered model id; default: this plugin's newest")
    launch: bool = Field(False, description="serve the page until the run is stopped")
    host: str = Field("127.0.0.1", description="the interface the page listens on")
    port: int = Field(7860, ge=1, le=65535, description="the port the page listens on")
    image: str | None = Field(None, description="without launch: the image to check, base64 PNG/JPEG")
    title: str | None = Field(None, max_length=200, description="the page's title; default: the model's name")


class GradioAction(Action):
    """A Gradio page for a registered model; override ``load_predictor(path)`` to load your model file.

    Example::

        from synapse_sdk.plugins.categories.neural_net import GradioAction

        from .model import load_predictor

        class Gradio(GradioAction):
            def load_predictor(self, path):
                return load_predictor(path)
    """

    name = "gradio"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
    params_model = GradioParams
    progress_categories = {"interface": "Build the page and serve it"}

    def load_predictor(self, path: Path) -> Predictor:
        """The predictor of the model file at ``path`` (``classes``, ``predict(images)``)."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement load_predictor(path)")

    def classify(self, image: Any) -> tuple[dict[str, float], str]:
        """What the page calls: every class's score (for ``gr.Label``) and the predicted class."""
        if isinstance(image, dict):  # a sketchpad gives its layers; the composite is the drawing
            image = image.get("composite")
        if image is None:
            return {}, ""
        (prediction,) = self.predictor.predict([image])
        return dict(prediction["scores"]), str(prediction["class"])

    def build_app(self, title: str) -> Any:
        """The Gradio Blocks: an upload tab and a drawing tab, the scores and the predicted class."""
        import gradio as gr

        with gr.Blocks(title=title) as app:
            gr.Markdown(f"# {title}\nUpload or draw an image: the model names its class.")
            with gr.Row():
                with gr.Column():
                    with gr.Tab("Upload"):
                        upload = gr.Image(type="pil", label="image", elem_id="upload")
                    with gr.Tab("Draw"):
                        sketch = gr.Sketchpad(type="pil", label="drawing", elem_id="draw")
                with gr.Column():
                    predicted = gr.Textbox(label="predicted class", elem_id=CLASS_ELEMENT, interactive=False)
                    scores = gr.Label(label="scores", num_top_classes=len(self.predictor.classes))
            upload.change(self.classify, inputs=upload, outputs=[scores, predicted])
            sketch.change(self.classify, inputs=sketch, outputs=[scores, predicted])
        return app

    def start(self) -> Any:
        """Load the model, build the page; serve it until stopped (``launch``) or check it once."""
        from synapse_sdk.plugins.categories.neural_net.predictor import ServedModels, decode_image

        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a user's server
        config = self.plugin_config
        models = ServedModels(self.client, config.code if config else None, self.load_predictor)
        record, self.predictor = models.get(self.params["model"])
        title = self.params["title"] or f"{record.get('name') or 'model'} (model {record['id']})"
        app = self.build_app(title)
        self.run.set_progress(1, 2, "interface")
        if not self.params["launch"]:
            from PIL import Image as PILImage

            image = decode_image(self.params["image"]) if self.params["image"] else PILImage.new("L", (8, 8))
            scores, predicted = self.classify(image)
            self.run.set_progress(2, 2, "interface")
            return {"model": record["id"], "launched": False, "class": predicted, "scores": scores}
        return self.serve(app, record)

    def serve(self, app: Any, record: dict[str, Any]) -> Any:
        """Launch ``app`` and keep it up until the run is stopped (SIGTERM or Ctrl-C end the wait)."""
        host, port = self.params["host"], self.params["port"]
        app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                   share=False, show_error=True)  # fmt: skip
        url = f"http://{host}:{port}/"
        self.run.log("gradio", {"url": url, "model": record["id"]})
        self.run.log_message(
            f"serving the Gradio page of model {record['id']} at {url} (stop the run to end it)"
        )
        self.run.set_progress(2, 2, "interface")
        try:
            while True:
                time.sleep(0.5)
        finally:
            app.close()
