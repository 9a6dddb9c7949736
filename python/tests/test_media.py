"""Image decoding through the module, a NumPy colour histogram equal to hymir-media's,
and the Tux Paint query-by-example program (skipped without the stamps)."""

import os
import subprocess
import sys

import hymir
import numpy as np
import pytest

from conftest import SOURCE_DIR

STAMPS = "/usr/share/tuxpaint/stamps"
EXAMPLE = SOURCE_DIR / "examples" / "python" / "tuxpaint_search.py"
needs_media = pytest.mark.skipif(not hymir.has_media, reason="built without HYMIR_WITH_MEDIA")
needs_stamps = pytest.mark.skipif(not os.path.isdir(STAMPS), reason="tuxpaint-stamps-default not installed")

sys.path.insert(0, str(EXAMPLE.parent))
import tuxpaint_search  # noqa: E402


@needs_media
def test_numpy_histogram_equals_the_library_descriptor():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, size=(37, 23, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(rng.random((37, 23)) < 0.3, 0, 255)  # some transparent background
    ours = tuxpaint_search.colour_vector(rgba)
    theirs = hymir.colour_histogram(rgba, bins_per_channel=4)
    assert theirs.dtype == np.float32 and theirs.shape == (64,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    with pytest.raises(hymir.InvalidArgumentError):
        hymir.colour_histogram(np.zeros((4, 4, 4), np.uint8))  # no opaque pixel


@needs_media
def test_read_image_errors_name_the_file(tmp_path):
    with pytest.raises(hymir.NotFoundError, match="nothing.png"):
        hymir.read_image(str(tmp_path / "nothing.png"))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(hymir.Error, match="junk.png"):
        hymir.read_image(str(junk))


@needs_media
@needs_stamps
def test_stamps_decode_to_rgba_arrays():
    path = os.path.join(STAMPS, "animals", "marsupials", "koala.png")
    rgba = hymir.read_image(path)
    assert rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 4
    assert (rgba[..., 3] == 0).any() and (rgba[..., 3] == 255).any()  # a stamp on a transparent ground


@needs_media
@needs_stamps
def test_query_by_example_program_ranks_similar_stamps(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), "--index", str(tmp_path / "idx"), "--limit", "120",
                          "--k", "3"], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert "indexed 1" in out.splitlines()[0]
    hits = [line for line in out.splitlines() if line.startswith("   ")]
    assert len(hits) == 3
    precision, random = (float(x) for x in out.rsplit("P@10", 1)[1].replace(")", "").split()[-4::3])
    assert precision > random
