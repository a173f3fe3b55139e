"""One source of truth per parameter: skmixup._params, and what must agree with it."""

import dataclasses
import inspect

import pytest
from numpydoc.docscrape import ClassDoc

from skmixup import (
    MixupClassifier,
    MixupClassifierCV,
    MixupNet,
    MixupRegressor,
    MixupRegressorCV,
)
from skmixup._base import _OPTIMIZERS
from skmixup._mixer import MixupConfig
from skmixup._modules import _ACTIVATIONS
from skmixup._params import (
    ACTIVATIONS,
    OPTIMIZERS,
    PARAMS,
    VARIANT_PARAMS,
    constraints,
)

ESTIMATORS = [MixupClassifier, MixupRegressor, MixupClassifierCV, MixupRegressorCV]


def _signature_defaults(cls):
    return {
        name: p.default
        for name, p in inspect.signature(cls).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_signature_defaults_are_the_table_s(Estimator):
    written = _signature_defaults(Estimator)
    assert set(written) <= set(PARAMS)
    assert written == {name: PARAMS[name].default for name in written}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_constraints_are_the_table_s_for_exactly_the_parameters(Estimator):
    names = list(inspect.signature(Estimator).parameters)
    assert Estimator._parameter_constraints == constraints(names)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_docstring_lists_exactly_the_parameters_in_order(Estimator):
    documented = [p.name for p in ClassDoc(Estimator)["Parameters"]]
    assert documented == list(inspect.signature(Estimator).parameters)
    for entry in ClassDoc(Estimator)["Parameters"]:
        assert entry.type == PARAMS[entry.name].header


def test_mixup_config_fields_are_the_variant_parameters():
    fields = {f.name: f.default for f in dataclasses.fields(MixupConfig)}
    assert list(fields) == list(VARIANT_PARAMS)
    assert fields == {name: PARAMS[name].default for name in VARIANT_PARAMS}


def test_mixup_net_takes_the_variant_parameters_with_their_defaults():
    written = _signature_defaults(MixupNet)
    assert {name: written[name] for name in VARIANT_PARAMS} == {
        name: PARAMS[name].default for name in VARIANT_PARAMS
    }


def test_plain_estimators_take_every_variant_parameter():
    for Estimator in (MixupClassifier, MixupRegressor):
        assert set(VARIANT_PARAMS) <= set(inspect.signature(Estimator).parameters)


def test_choices_match_what_the_code_builds():
    assert set(ACTIVATIONS) == set(_ACTIVATIONS)
    assert set(OPTIMIZERS) == set(_OPTIMIZERS)
