# The spec's "Advanced Features" and "Monitoring and Debugging" examples, verbatim inside actions.
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.neural_net import TrainAction


# --- spec: Custom Progress Categories ---
class MyAction(Action):
    progress_categories = {
        "preprocessing": "Data preprocessing",
        "training": "Model training",
        "validation": "Model validation"
    }
    def start(self):
        # Update different progress categories
        self.run.set_progress(50, 100, "preprocessing")
        self.run.set_progress(10, 50, "training")


# --- spec: Custom Metrics ---
class MetricsAction(TrainAction):
    def start(self):
        # Log custom metrics
        self.run.set_metrics({
            "accuracy": 0.95,
            "loss": 0.1,
            "f1_score": 0.92
        }, "validation")


# --- spec: Runtime Environment Customization ---
class EnvAction(TrainAction):
    def get_runtime_env(self):
        env = super().get_runtime_env()
        # Add custom environment variables
        env['env_vars']['CUSTOM_VAR'] = 'value'
        # Add additional packages
        env['pip']['packages'].append('custom-package==1.0.0')
        return env

    def start(self):
        return self.get_runtime_env()


# --- spec: Plugin Execution Logs, Progress Monitoring, Metrics Collection ---
class MonitoringAction(TrainAction):
    def start(self):
        # In your action
        self.run.log_message("Processing started", "INFO")
        self.run.log_message("Warning: low memory", "WARNING")
        self.run.log_message("Error occurred", "ERROR")
        # With structured data
        self.run.log("model_checkpoint", {
            "epoch": 10,
            "accuracy": 0.95,
            "checkpoint_path": "/models/checkpoint_10.pth"
        })
        # Simple progress
        self.run.set_progress(current=50, total=100)
        # Categorized progress
        self.run.set_progress(current=30, total=100, category="training")
        self.run.set_progress(current=20, total=50, category="validation")
        # Training metrics
        self.run.set_metrics({
            "epoch": 10,
            "train_loss": 0.1,
            "train_accuracy": 0.95,
            "learning_rate": 0.001
        }, "training")
        # Performance metrics
        self.run.set_metrics({
            "inference_time": 0.05,
            "throughput": 200,
            "memory_usage": 1024
        }, "performance")
