"""The base of every pydantic model that is (part of) a Kubernetes API type.

Python attributes are snake_case; the wire and CRD names are camelCase. Where the mechanical
conversion differs from the Kubernetes name (`unsafe_skip_ca_verification` must be
`unsafeSkipCAVerification`), give the field an explicit `alias`.

CRD-only schema keywords travel in `json_schema_extra` and are passed through by the CRD
generator, e.g. on a model::

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [
        {"rule": "!(has(self.content) && has(self.contentFrom))",
         "message": "content and contentFrom are mutually exclusive: set only one"}]})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class KubeModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )

    def to_kube(self) -> dict[str, Any]:
        """The object as the API server stores it: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
