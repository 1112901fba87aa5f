"""A model directory whose mtfix.json holds a wrong setting fails at load with one clear error naming it,
instead of a crash deep inside a repair or a loop without end (max_source_length 0)."""

import json

import pytest

from mtfix import DEFAULT_MODEL_DIR, ModelLoadError, Repairer


def _model_with_settings(tmp_path, settings) -> str:
    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.name != "mtfix.json":
            (tmp_path / item.name).symlink_to(item)
    (tmp_path / "mtfix.json").write_text(json.dumps(settings), encoding="utf-8")
    return str(tmp_path)


def _default_settings() -> dict:
    settings = json.loads((DEFAULT_MODEL_DIR / "mtfix.json").read_text(encoding="utf-8"))
    settings.pop("files", None)  # the manifest of the bundled files is not what these tests change
    return settings


@pytest.mark.parametrize("change, named", [
    (lambda s: None, "JSON object"),
    (lambda s: [], "JSON object"),
    (lambda s: {**s, "max_source_length": 0}, "max_source_length"),
    (lambda s: {**s, "max_source_length": "long"}, "max_source_length"),
    (lambda s: {**s, "lattice": {**s["lattice"], "beam_size": "eight"}}, "beam_size"),
    (lambda s: {**s, "lattice": [1, 2]}, "lattice"),
    (lambda s: {**s, "lattice": {**s["lattice"], "rewrite_min_postedits": 1.5}}, "rewrite_min_postedits"),
    (lambda s: {**s, "channel_rates": {"synonym": "often"}}, "synonym"),
])
def test_a_wrong_setting_is_one_clear_error(tmp_path, change, named):
    directory = _model_with_settings(tmp_path, change(_default_settings()))
    with pytest.raises(ModelLoadError, match=named):
        Repairer(directory, device="cpu")


def test_a_negative_rewrite_threshold_is_refused(tmp_path):
    settings = _default_settings()
    settings["lattice"]["rewrite_min_postedits"] = -1  # would send every sentence to the seq2seq
    with pytest.raises(ValueError, match="rewrite_min_postedits"):
        Repairer(_model_with_settings(tmp_path, settings), device="cpu")
