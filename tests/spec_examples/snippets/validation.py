# The spec's "Parameter Validation" example, verbatim (pydantic's v1-style @validator).
from pydantic import BaseModel, validator
from typing import Literal
class TrainParams(BaseModel):
    model_type: Literal["cnn", "transformer", "resnet"]
    dataset_path: str
    batch_size: int = 32
    @validator('batch_size')
    def validate_batch_size(cls, v):
        if v <= 0 or v > 512:
            raise ValueError('Batch size must be between 1 and 512')
        return v
