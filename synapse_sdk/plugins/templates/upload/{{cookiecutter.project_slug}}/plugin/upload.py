"""The ``upload`` action: copy files from a local folder into a destination, de-duplicated by sha256.

Files whose content the destination already holds are skipped, so re-running an interrupted
upload only copies what is missing. ``manifest.json`` in the destination lists every file with
its sha256. Replace the copy with your storage provider's client to upload elsewhere.

Left unset, ``source_path`` is the bundled sample_data/files and ``destination`` is ``uploads/``
in the run's folder; paths the user passes are relative to the current folder, never to the
plugin folder (a published release is read-only).
"""

import hashlib
import json
import shutil
from pathlib import Path

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.upload import UploadAction as BaseUploadAction

SAMPLE_FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"


class UploadParams(BaseModel):
    source_path: str | None = Field(
        None,
        description="The folder to upload (relative to the current folder). "
        "Default: the bundled sample_data/files.",
    )
    destination: str | None = Field(
        None,
        description="The folder to copy into (relative to the current folder); pass the same one again "
        "to resume an upload. Default: uploads/ in the run's folder.",
    )
    recursive: bool = Field(True, description="Include files in sub-folders")
    extensions: list[str] = Field(default_factory=list, description="e.g. ['.jpg', '.png']; empty = all")


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def user_path(path: str) -> Path:
    """A path the user passed: absolute as given, relative to the current folder otherwise."""
    return Path(path).expanduser().resolve()


class UploadAction(BaseUploadAction):
    name = "upload"
    params_model = UploadParams
    progress_categories = {"upload": "Copying files"}

    def start(self):
        source = SAMPLE_FILES if self.params["source_path"] is None else user_path(self.params["source_path"])
        if not source.is_dir():
            raise FileNotFoundError(f"source_path {source} is not a folder")
        given = self.params["destination"]
        destination = self.run.path / "uploads" if given is None else user_path(given)
        destination.mkdir(parents=True, exist_ok=True)
        pattern = "**/*" if self.params["recursive"] else "*"
        extensions = {e.lower() for e in self.params["extensions"]}
        files = [
            p
            for p in sorted(source.glob(pattern))
            if p.is_file() and (not extensions or p.suffix.lower() in extensions)
        ]
        self.run.log_message(f"Uploading {len(files)} file(s) from {source} to {destination}")

        manifest_file = destination / "manifest.json"
        manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
        known = {entry["sha256"] for entry in manifest.values()}
        uploaded = skipped = size = 0
        for number, file in enumerate(files, start=1):
            relative = file.relative_to(source).as_posix()
            digest = sha256_of(file)
            if digest in known:
                skipped += 1
                self.run.log_message(f"{relative}: same content already uploaded, skipped")
            else:
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target)
                manifest[relative] = {"sha256": digest, "size": file.stat().st_size}
                known.add(digest)
                uploaded += 1
                size += file.stat().st_size
            self.run.set_progress(number, len(files), "upload")
        manifest_file.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        self.run.set_metrics({"uploaded": uploaded, "skipped": skipped, "bytes": size}, "upload")
        return {
            "status": "success",
            "uploaded": uploaded,
            "skipped": skipped,
            "destination": str(destination),
        }
