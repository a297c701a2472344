"""Image folders as model input: Pillow (imported lazily), RGB, resize, scale, normalize, layout."""

from __future__ import annotations

import re
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from onnxproof.data._validate import Chunk, check_shape
from onnxproof.errors import DataError
from onnxproof.specs import TensorSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")

#: Largest image decoded, in pixels (Pillow's own MAX_IMAGE_PIXELS default, ~89 megapixels, or
#: about 270 MB as RGB). Pillow only warns up to twice that; here anything above is refused
#: before decoding, from the size in the file's header.
MAX_IMAGE_PIXELS = 89_478_485


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    """Preprocessing for an image folder: RGB, bilinear resize, ``(x * scale - mean) / std``."""

    size: tuple[int, int]  # (height, width)
    layout: Literal["NCHW", "NHWC"] = "NCHW"
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    scale: float = 1 / 255

    def __post_init__(self) -> None:
        if len(self.size) != 2 or min(self.size) < 1:
            raise DataError(f"image size {self.size} is not (height, width) with both >= 1")
        if self.layout not in ("NCHW", "NHWC"):
            raise DataError(f"image layout {self.layout!r} is not NCHW or NHWC")
        for label, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, 3):
                raise DataError(f"image {label} has {len(values)} values; give 1 or 3 (RGB)")
        if any(s == 0 for s in self.std):
            raise DataError("image std contains 0; normalization would divide by zero")

    @classmethod
    def parse(cls, text: str) -> ImageSpec:
        """Parse ``size=224x224,layout=NCHW,mean=0.485/0.456/0.406,std=...,scale=1/255``."""
        example = "size=224x224,layout=NCHW,mean=0.485/0.456/0.406,std=0.229/0.224/0.225"
        fields: dict[str, Any] = {}
        try:
            for part in filter(None, (p.strip() for p in text.split(","))):
                key, sep, value = (s.strip() for s in part.partition("="))
                if not sep or key in fields:
                    raise ValueError(f"{part!r} is not key=value or repeats a key")
                if key == "size":
                    dims = [int(v) for v in re.split(r"[x*]", value)]
                    fields["size"] = (dims[0], dims[0]) if len(dims) == 1 else tuple(dims)
                elif key == "layout":
                    fields["layout"] = value.upper()
                elif key in ("mean", "std"):
                    fields[key] = tuple(float(v) for v in value.split("/"))
                elif key == "scale":
                    num, _, den = value.partition("/")
                    fields["scale"] = float(num) / float(den) if den else float(num)
                else:
                    raise ValueError(f"unknown key {key!r} (size, layout, mean, std, scale)")
            if "size" not in fields:
                raise ValueError("size is required")
        except (ValueError, ZeroDivisionError) as exc:
            raise DataError(f"image spec {text!r}: {exc}", hint=f"for example {example!r}") from exc
        return cls(**fields)


def image_loader(
    path: Path, specs: tuple[TensorSpec, ...], spec: ImageSpec
) -> Callable[[Path], Chunk]:
    if len(specs) != 1:
        raise DataError(
            f"folder {str(path)!r} holds images, but the model has {len(specs)} inputs",
            hint="image folders feed single-input models; use .npz for several inputs",
        )
    (input_spec,) = specs
    if input_spec.dtype not in ("float16", "float32", "float64"):
        raise DataError(
            f"folder {str(path)!r} holds images, which become float data, but the model "
            f"expects {input_spec}",
            hint="preprocess the images yourself and save them as .npz",
        )
    height, width = spec.size
    sample = (3, height, width) if spec.layout == "NCHW" else (height, width, 3)
    where = f"images in {str(path)!r} at {height}x{width} {spec.layout}"
    if check_shape(
        sample, input_spec.dtype, input_spec, where
    ):  # rank 3: no batch axis to stack on
        raise DataError(f"{where}: the model expects {input_spec}, which has no batch axis")
    try:
        from PIL import Image
    except ImportError as exc:
        raise DataError("reading images needs Pillow", hint="pip install pillow") from exc
    bilinear = getattr(Image, "Resampling", Image).BILINEAR
    mean = np.asarray(spec.mean, dtype=np.float32)
    std = np.asarray(spec.std, dtype=np.float32)

    def load(file: Path) -> Chunk:
        try:
            with warnings.catch_warnings():
                # Pillow warns (then raises DecompressionBombError) on huge images; the size
                # check below makes the decision, so its warning is noise here.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(file) as image:
                    pixels_in_file = image.size[0] * image.size[1]
                    if pixels_in_file > MAX_IMAGE_PIXELS:
                        raise _too_large(file, image.size)
                    rgb = image.convert("RGB").resize((width, height), resample=bilinear)
        except Image.DecompressionBombError as exc:
            raise DataError(
                f"image {str(file)!r} is too large to decode safely: {exc}",
                hint=f"images up to {MAX_IMAGE_PIXELS:,} pixels are read; resize it first",
            ) from exc
        # OSError includes UnidentifiedImageError and truncated files; the others come from
        # damaged chunks and headers inside Pillow's decoders.
        except (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error) as exc:
            raise DataError(
                f"image {str(file)!r} could not be read: {type(exc).__name__}: {exc}",
                hint="check that the file is a complete image; remove or re-save it",
            ) from exc
        pixels = (np.asarray(rgb, dtype=np.float32) * np.float32(spec.scale) - mean) / std
        if spec.layout == "NCHW":
            pixels = pixels.transpose(2, 0, 1)
        return {input_spec.name: np.ascontiguousarray(pixels, dtype=input_spec.dtype)[None]}

    return load


def _too_large(file: Path, size: tuple[int, int]) -> DataError:
    return DataError(
        f"image {str(file)!r} is {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, more than "
        f"the {MAX_IMAGE_PIXELS:,} onnxproof decodes",
        hint="resize it first; a header this large is often a decompression bomb",
    )
