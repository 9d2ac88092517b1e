"""The ``gradio`` action: an interactive demo of the model.

With ``launch: true`` and Gradio installed (``pip install gradio``, then list it in
requirements.txt) it serves a web UI until stopped. Otherwise it builds nothing heavy: it
describes the interface and runs the example through the same predict function the UI uses.
"""

import importlib.util
import time

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import GradioAction as BaseGradioAction

from .model import MODEL_PATH_HELP, load_model, model_file, predict_proba


class GradioParams(BaseModel):
    model_path: str | None = Field(None, description=MODEL_PATH_HELP)
    example: list[float] = Field(
        default_factory=lambda: [2.4, 2.2],
        min_length=2,
        max_length=2,
        description="The point shown as an example",
    )
    launch: bool = Field(False, description="Serve the web UI until stopped (needs gradio installed)")
    server_port: int = Field(7860, ge=1, le=65535, description="The port the web UI listens on")


class GradioAction(BaseGradioAction):
    name = "gradio"
    params_model = GradioParams
    progress_categories = {"interface": "Build and check the demo"}

    def predict(self, x1, x2):
        """What the UI calls: the label and probability for one point."""
        probability = predict_proba(self.model, [float(x1), float(x2)])
        return {"label": int(probability >= 0.5), "probability": round(probability, 4)}

    def build_interface(self):
        """The Gradio interface (imports gradio, so only call it when gradio is installed)."""
        import gradio as gr

        return gr.Interface(
            fn=lambda x1, x2: self.predict(x1, x2),
            inputs=[gr.Number(label="x1"), gr.Number(label="x2")],
            outputs=gr.JSON(label="prediction"),
            examples=[self.params["example"]],
            title="Toy classifier",
        )

    def start(self):
        self.model = load_model(model_file(self.params["model_path"]))
        has_gradio = importlib.util.find_spec("gradio") is not None
        started = time.perf_counter()
        prediction = self.predict(*self.params["example"])
        self.run.set_metrics({"prediction_ms": (time.perf_counter() - started) * 1000}, "performance")
        self.run.set_progress(1, 2, "interface")
        if self.params["launch"]:
            if not has_gradio:
                raise RuntimeError("launch needs gradio: pip install gradio (and add it to requirements.txt)")
            self.run.log_message(f"Serving the demo on port {self.params['server_port']}")
            self.build_interface().launch(server_port=self.params["server_port"])
        self.run.set_progress(2, 2, "interface")
        self.run.log_message(f"Example {self.params['example']} -> {prediction}")
        return {
            "interface": {"inputs": ["x1", "x2"], "output": "prediction"},
            "example": self.params["example"],
            "prediction": prediction,
            "gradio_installed": has_gradio,
            "launched": self.params["launch"],
        }
