"""Real sample data for the platform tests: scikit-image's photos as JPEG files, a hand-made COCO file.

The boxes were drawn by hand on the photos (the astronaut's face is where OpenCV's frontal-face
cascade finds it, see the team's notes); the spoon also has a polygon. ``write_generated`` makes a
larger set of small generated images, one box each, for the tests that kill an import half-way.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

#: File name -> the ``skimage.data`` photo written there.
PHOTOS = {
    "astronaut.jpg": "astronaut",
    "chelsea.jpg": "chelsea",
    "coffee.jpg": "coffee",
    "rocket.jpg": "rocket",
}

COCO = {
    "info": {"description": "scikit-image sample photos, boxes drawn by hand"},
    "images": [
        {"id": 1, "file_name": "astronaut.jpg", "width": 512, "height": 512},
        {"id": 2, "file_name": "chelsea.jpg", "width": 451, "height": 300},
        {"id": 3, "file_name": "coffee.jpg", "width": 600, "height": 400},
        {"id": 4, "file_name": "rocket.jpg", "width": 640, "height": 427},
    ],
    "categories": [
        {"id": 1, "name": "face", "supercategory": "person"},
        {"id": 2, "name": "helmet", "supercategory": "object"},
        {"id": 3, "name": "rocket", "supercategory": "vehicle"},
        {"id": 4, "name": "eye", "supercategory": "animal"},
        {"id": 5, "name": "cup", "supercategory": "kitchen"},
        {"id": 6, "name": "spoon", "supercategory": "kitchen"},
    ],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [177, 66, 95, 95], "area": 9025, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [275, 340, 237, 172], "area": 40764, "iscrowd": 0},
        {"id": 3, "image_id": 1, "category_id": 3, "bbox": [352, 2, 115, 278], "area": 31970, "iscrowd": 0},
        {"id": 4, "image_id": 2, "category_id": 4, "bbox": [135, 85, 70, 65], "area": 4550, "iscrowd": 0},
        {"id": 5, "image_id": 2, "category_id": 4, "bbox": [295, 108, 50, 55], "area": 2750, "iscrowd": 0},
        {"id": 6, "image_id": 3, "category_id": 5, "bbox": [172, 15, 240, 290], "area": 69600, "iscrowd": 0},
        {"id": 7, "image_id": 3, "category_id": 6, "bbox": [322, 65, 105, 262], "area": 27510, "iscrowd": 0,
         "segmentation": [[330, 270, 360, 245, 395, 255, 405, 290, 390, 318, 355, 325, 330, 305]]},
        {"id": 8, "image_id": 4, "category_id": 3, "bbox": [300, 125, 40, 285], "area": 11400, "iscrowd": 0},
    ],
}  # fmt: skip


def write_samples(folder: Path) -> tuple[Path, Path]:
    """The four photos as JPEG files in ``folder/images`` and the COCO file ``folder/instances.json``."""
    import skimage.data
    from PIL import Image

    images = folder / "images"
    images.mkdir(parents=True)
    for name, photo in PHOTOS.items():
        Image.fromarray(getattr(skimage.data, photo)()).save(images / name, quality=90)
    coco = folder / "instances.json"
    coco.write_text(json.dumps(COCO, indent=1))
    return images, coco


def write_generated(folder: Path, count: int = 300, size: tuple[int, int] = (160, 120)) -> tuple[Path, Path]:
    """``count`` distinct noise PNG images with one box each, and their COCO file (the same on every call)."""
    from PIL import Image

    rng = random.Random(count)
    images = folder / "images"
    images.mkdir(parents=True)
    width, height = size
    document: dict = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "square"}]}
    for number in range(1, count + 1):
        name = f"{number:04d}.png"
        Image.frombytes("RGB", size, rng.randbytes(width * height * 3)).save(images / name)
        box = [
            rng.randrange(width // 2),
            rng.randrange(height // 2),
            rng.randrange(4, 40),
            rng.randrange(4, 40),
        ]
        document["images"].append({"id": number, "file_name": name, "width": width, "height": height})
        document["annotations"].append(
            {
                "id": number,
                "image_id": number,
                "category_id": 1,
                "bbox": box,
                "area": box[2] * box[3],
                "iscrowd": 0,
            }
        )
    coco = folder / "instances.json"
    coco.write_text(json.dumps(document))
    return images, coco
