"""Campaign configuration: a YAML file validated by strict pydantic models.

The stage sections are the stages' own settings models (``orderings``:
:class:`~magscreen.magnetism.enumeration.OrderingSettings`, ``relax`` and ``rank``:
:mod:`magscreen.screening.settings`; ``validate.settings`` goes to
:func:`~magscreen.validation.base.build_validation_maker`), so nothing is declared twice.

Every section forbids unknown keys, so a typo (``max_magnetic_atom``) is an error, never a silent
default. :func:`load_config` turns pydantic's errors into :class:`~magscreen.errors.InputError`
messages that name the file, the key path, the value found and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from magscreen.errors import InputError
from magscreen.magnetism.enumeration import OrderingSettings
from magscreen.screening.anisotropy_settings import AnisotropySettings
from magscreen.screening.settings import RankSettings, RelaxSettings
from magscreen.training.extension_settings import ExtensionSettings

ModelT = TypeVar("ModelT", bound=BaseModel)

__all__ = [
    "COLLECTIONS",
    "CampaignConfig",
    "CandidateFilters",
    "CandidatesConfig",
    "ExtendConfig",
    "StoreConfig",
    "ValidateConfig",
    "load_config",
    "resolve_paths",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandidateFilters(_Section):
    """Which candidates of the source enter the campaign."""

    elements: list[str] | None = Field(
        None, description="Keep candidates that contain all of these elements (Materials Project semantics)."
    )
    max_atoms: int | None = Field(None, ge=1, description="Largest cell of a candidate (atoms).")
    energy_above_hull: float | None = Field(
        None, ge=0, description="Largest energy above the convex hull (eV/atom); unknown values pass."
    )
    names: list[str] | None = Field(
        None, description="Keep only these candidates (candidate ids, Materials Project ids or formulas)."
    )


class CandidatesConfig(_Section):
    """Where candidates come from."""

    source: Literal["snapshot", "materials_project", "files"] = Field(
        "snapshot",
        description="'snapshot' (offline set shipped in configs/candidates), 'materials_project' "
        "(mp-api, key from MP_API_KEY) or 'files' (CIF/POSCAR/extxyz files or folders).",
    )
    snapshot: Path | None = Field(
        None,
        description="Snapshot folder (holding index.json) to read instead of the shipped one "
        "(relative to the config's folder).",
    )
    paths: list[Path] = Field(
        default_factory=list,
        description="Structure files or folders (source 'files'; relative to the config's folder).",
    )
    filters: CandidateFilters = Field(default_factory=CandidateFilters)
    mp_query: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra Materials Project summary-search fields, e.g. {chemsys: 'Fe-O', is_stable: true}.",
    )

    @model_validator(mode="after")
    def _paths_for_files(self) -> CandidatesConfig:
        if self.source == "files" and not self.paths:
            raise ValueError("source 'files' needs at least one entry in candidates.paths")
        return self


class ValidateConfig(_Section):
    """Optional DFT validation of the best candidates."""

    engine: Literal["none", "gpaw", "vasp"] = Field("none", description="DFT engine, or 'none'.")
    top_n: int = Field(2, ge=0, description="Number of best-ranked candidates that are validated.")
    orderings_per_candidate: int = Field(
        2, ge=1, description="Lowest orderings validated per candidate (2 checks the gap)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the engine's validation maker."
    )


class ExtendConfig(_Section):
    """Domain extension: candidates the model cannot resolve get a few DFT orderings and an extended model.

    For each candidate outside the model's knowledge, the ``max_calculations`` orderings in the
    smallest cells (ties: lowest ML energy first) are computed with ``engine``, the model is extended
    on them (``fit``: :class:`~magscreen.training.extension_settings.ExtensionSettings`) and the
    extended model ranks all of the candidate's orderings. The ``extensions`` store collection
    records which DFT documents extended which model.
    """

    engine: Literal["none", "gpaw", "vasp"] = Field(
        "none", description="DFT engine, or 'none' (no extension)."
    )
    max_calculations: int = Field(
        3,
        ge=2,
        description="DFT orderings per extended candidate (two at least: energies enter as differences).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the engine's validation maker."
    )
    fit: ExtensionSettings = Field(default_factory=ExtensionSettings)
    models: Path = Field(
        Path("extended-models"),
        description="Folder of the extended models' checkpoints (relative to the config's folder).",
    )


class StoreConfig(_Section):
    """Where documents go."""

    kind: Literal["embedded", "mongodb"] = Field(
        "embedded", description="'embedded' (file-backed, no server) or 'mongodb' (server by URI)."
    )
    path: Path = Field(
        Path("magscreen-db"), description="Folder of the embedded store (relative to the config's folder)."
    )
    uri: str | None = Field(None, description="MongoDB URI, e.g. mongodb://user:pass@host:27017/.")
    database: str = Field("magscreen", description="MongoDB database name.")
    timeout_s: float = Field(5.0, gt=0, description="MongoDB server selection timeout (s).")

    @model_validator(mode="after")
    def _uri_for_mongodb(self) -> StoreConfig:
        if self.kind == "mongodb" and not self.uri:
            raise ValueError("store kind 'mongodb' needs store.uri")
        return self


#: The collections of a campaign store: collection name -> key field of its documents.
COLLECTIONS = {
    "orderings": "ordering_id",
    "candidates": "candidate_key",
    "campaigns": "name",
    "validations": "validation_id",
    "outputs": "uuid",
    "extensions": "extension_id",
}


class CampaignConfig(_Section):
    """A screening campaign: candidates -> orderings -> relax -> rank -> validate -> store."""

    name: str = Field("campaign", description="Campaign name; documents carry it.")
    candidates: CandidatesConfig = Field(default_factory=CandidatesConfig)
    orderings: OrderingSettings = Field(default_factory=OrderingSettings)
    relax: RelaxSettings = Field(default_factory=RelaxSettings)
    rank: RankSettings = Field(default_factory=RankSettings)
    anisotropy: AnisotropySettings = Field(default_factory=AnisotropySettings)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    extend: ExtendConfig = Field(default_factory=ExtendConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "path_type": "a path",
    "missing": "this key to be set",
}


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Keys of ``model`` allowed in the section that holds ``loc`` (the location of an unknown key)."""
    for part in loc[:-1]:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe(model: type[BaseModel], error: dict) -> tuple[str, str, str]:
    """Key path, message and expectation of one pydantic error of ``model``."""
    loc = tuple(error["loc"])
    key_path = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return key_path, "unknown key", "one of " + ", ".join(_allowed_keys(model, loc))
    if kind == "missing":
        return key_path, "missing", _EXPECTED["missing"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        expected = f"one of {ctx.get('expected')}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[
            kind
        ]
        bound = next(iter(ctx.values()))
        expected = f"a value {op} {bound:g}" if isinstance(bound, int | float) else f"a value {op} {bound}"
    elif kind == "value_error":
        return key_path, str(ctx.get("error", error["msg"])), ""
    else:
        expected = _EXPECTED.get(kind, error["msg"].lower())
    return key_path, f"got {value!r}", expected


def load_yaml_model(path: str | Path, model: type[ModelT], what: str) -> ModelT:
    """Read a YAML file and validate it as ``model``.

    Parameters
    ----------
    path
        YAML file.
    model
        Pydantic model of the whole file (``extra="forbid"`` makes unknown keys errors).
    what
        What the file should be, for messages (e.g. "a campaign config in YAML").

    Raises
    ------
    InputError
        Missing or unreadable file, invalid YAML, unknown key, or a value of the wrong type or range;
        the message names the file, the key path, the value and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", source=path, expected=what)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source=path) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(
            f"got a {type(raw).__name__}", source=path, expected="a mapping of sections at top level"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        described = [_describe(model, e) for e in exc.errors()]
        key_path, message, expected = described[0]
        if len(described) > 1:
            others = "; ".join(f"{k}: {m}" + (f" (expected {x})" if x else "") for k, m, x in described[1:])
            message = f"{message}{' (expected ' + expected + ')' if expected else ''}; also {others}"
            expected = ""
        raise InputError(message, source=path, field=key_path, expected=expected or None) from None


def load_config(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign config (errors as in :func:`load_yaml_model`); its relative
    paths resolve against the config's folder (:func:`resolve_paths`)."""
    config = load_yaml_model(path, CampaignConfig, "a campaign config in YAML")
    return resolve_paths(config, Path(path).parent)


def _against(value: Path, base: Path) -> Path:
    value = value.expanduser()
    return value if value.is_absolute() else base.resolve() / value


def resolve_paths(config: CampaignConfig, base: Path) -> CampaignConfig:
    """The config with its relative paths made absolute against ``base`` (the config's folder):
    ``store.path``, ``candidates.snapshot``, ``candidates.paths``, ``extend.models`` and
    ``extend.settings.workdir``, and a ``relax.calculator`` that
    names a checkpoint file (``.pt``), so a config finds its files from any working directory."""
    snapshot = config.candidates.snapshot
    candidates = config.candidates.model_copy(
        update={
            "paths": [_against(p, base) for p in config.candidates.paths],
            "snapshot": None if snapshot is None else _against(snapshot, base),
        }
    )
    relax = config.relax
    if relax.calculator.endswith(".pt"):
        relax = relax.model_copy(update={"calculator": str(_against(Path(relax.calculator), base))})
    store = config.store.model_copy(update={"path": _against(config.store.path, base)})
    extend = config.extend.model_copy(update={"models": _against(config.extend.models, base)})
    if "workdir" in extend.settings:
        workdir = str(_against(Path(extend.settings["workdir"]), base))
        extend = extend.model_copy(update={"settings": {**extend.settings, "workdir": workdir}})
    return config.model_copy(
        update={"candidates": candidates, "relax": relax, "store": store, "extend": extend}
    )
