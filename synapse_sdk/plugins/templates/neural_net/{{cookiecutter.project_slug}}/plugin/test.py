"""The ``test`` action: measure a registered model on the test split of its ground truth.

The model is ``model`` (a registered model id), else the one train ``run`` registered, else
this plugin's newest. The result and the run's metrics hold the accuracy, macro and per-class
precision/recall/F1 and the confusion matrix; ``confusion_matrix.png`` in the run folder draws it.
"""

from synapse_sdk.plugins.categories.neural_net import TestAction as BaseTestAction


class TestAction(BaseTestAction):
    name = "test"

    def start(self):
        from .model import load_predictor

        record = self.model_record()
        predictor = load_predictor(self.model_file(record))
        truth = self.load_dataset(record)
        images, labels = truth.images("test"), truth.labels("test")
        batch = self.params["batch_size"]
        predicted = []
        for start in range(0, len(images), batch):
            predicted += [p["class"] for p in predictor.predict(images[start : start + batch])]
            self.run.set_progress(min(start + batch, len(images)), len(images), "test")
        report = self.report(labels, predicted, predictor.classes)
        self.run.log_message(
            f"model {record['id']} on {len(images)} {self.params['split']} images: "
            f"accuracy {report['accuracy']:.4f}, macro F1 {report['f1']:.4f}"
        )
        return {"status": "success", "model": record["id"], **report}
