"""The base of every pydantic model that is (part of) a Kubernetes API type.

Python attributes are snake_case; the wire and CRD names are camelCase with Kubernetes'
initialisms (`instance_id` is `instanceID`, `cert_sans` is `certSANs`, `unsafe_skip_ca_verification`
is `unsafeSkipCAVerification`). Where a Kubernetes name follows no rule, give the field an
explicit `alias`.

CRD-only schema keywords travel in `json_schema_extra` and are passed through by the CRD
generator, e.g. on a model::

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [
        {"rule": "!(has(self.content) && has(self.contentFrom))",
         "message": "content and contentFrom are mutually exclusive: set only one"}]})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# Words Kubernetes APIs spell in capitals when they are not the first word of a name.
INITIALISMS = {
    w.lower(): w
    for w in (
        "ID", "IDs", "IP", "IPs", "DNS", "CA", "API", "URL", "UID", "SANs", "FS", "TLS",
        "CIDR", "CIDRs", "CPU", "CPUs", "ARN", "UUID", "VM", "VMs", "NIC", "NICs", "SSH",
    )
}  # fmt: skip


def to_kube_name(snake: str) -> str:
    """snake_case to the Kubernetes camelCase name: `local_api_endpoint` -> `localAPIEndpoint`."""
    first, *rest = snake.split("_")
    return first + "".join(INITIALISMS.get(w, w[:1].upper() + w[1:]) for w in rest)


class KubeModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_kube_name,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )

    def to_kube(self) -> dict[str, Any]:
        """The object as the API server stores it: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
