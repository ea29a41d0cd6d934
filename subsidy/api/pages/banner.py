"""The banner of every page: whom the signed-in account acts for (or that its registration waits or was refused)."""

from __future__ import annotations

from fastapi import Request

from subsidy.api.bindings import acts_for_out, binding_of
from subsidy.api.deps import SessionDep
from subsidy.api.pages.web import page_identity


async def load_acts_for(request: Request, db: SessionDep) -> None:
    """Put `acts_for` (with a refusal's reason) on the request for `render`; officials have none."""
    identity = page_identity(request)
    if identity is None:
        return
    binding = await binding_of(db, identity.username)
    acts_for = acts_for_out(binding)
    if acts_for is not None and binding is not None:
        acts_for["reason"] = binding.reason or ""
    request.state.acts_for = acts_for
