"""The one factory of validation makers (campaign ``validate`` section and ``magscreen validate``)."""

from __future__ import annotations

import numpy as np
import pytest

from magscreen.errors import InputError
from magscreen.validation.base import build_validation_maker, c_and_a_directions

pytest.importorskip("gpaw")


def test_gpaw_anisotropy_takes_the_callers_settings_over_its_dense_defaults():
    maker = build_validation_maker("gpaw", {"anisotropy": True, "xc": "LDA", "workdir": "w"})
    assert maker.relax_maker is None
    assert maker.static_maker.settings.xc == "LDA" and maker.static_maker.settings.kpoint_density == 5.0
    anisotropy = maker.anisotropy_maker.settings
    assert (anisotropy.xc, anisotropy.kpoint_density, anisotropy.smearing_eV) == ("LDA", 8.0, 0.01)
    assert maker.anisotropy_maker.workdir == maker.static_maker.workdir == "w"
    chosen = build_validation_maker("gpaw", {"anisotropy": True, "kpoint_density": 4.0})
    assert chosen.anisotropy_maker.settings.kpoint_density == 4.0


def test_unknown_engine_and_unknown_setting_name_the_config_field():
    with pytest.raises(InputError) as engine:
        build_validation_maker("abinit", {})
    assert engine.value.field == "validate.engine"
    with pytest.raises(InputError) as setting:
        build_validation_maker("gpaw", {"ecut": 500})
    assert setting.value.field == "validate.settings"


def test_c_and_a_directions_are_orthonormal_with_c_along_the_third_vector():
    cell = np.array([[3.0, 0.0, 0.0], [-1.5, 2.6, 0.0], [0.5, 0.3, 4.9]])  # triclinic
    c_axis, a_axis = c_and_a_directions(cell)
    np.testing.assert_allclose(np.cross(c_axis, cell[2]), 0.0, atol=1e-12)
    assert np.linalg.norm(c_axis) == pytest.approx(1.0) and np.linalg.norm(a_axis) == pytest.approx(1.0)
    assert np.dot(c_axis, a_axis) == pytest.approx(0.0, abs=1e-12)
    assert np.dot(a_axis, cell[0]) > 0  # a keeps the direction of the first lattice vector
