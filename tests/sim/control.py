"""The simulator's own endpoints under `/__sim`: statistics, timeline, state, a user's view,
fault knobs and the queued metadata jobs (for a standalone simulator driven over HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .server import json_response
from .timeline import spans_as_json
from .view import to_json, view

if TYPE_CHECKING:
    from .server import Simulator

EMAIL = "me@example.com"  # the generated libraries' key user


class SimControl:
    """The `/__sim` routes of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Register the routes on the simulator's app."""
        router.add_get("/__sim/stats", self._sim_stats)
        router.add_get("/__sim/timeline", self._sim_timeline)
        router.add_get("/__sim/state", self._sim_state)
        router.add_get("/__sim/view", self._sim_view)
        router.add_post("/__sim/reset-stats", self._sim_reset)
        router.add_post("/__sim/faults", self._sim_faults)
        router.add_post("/__sim/run-metadata-jobs", self._sim_jobs)

    async def _sim_stats(self, _request: web.Request) -> web.Response:
        return json_response(self.sim.stats.as_dict())

    async def _sim_timeline(self, _request: web.Request) -> web.Response:
        spans = self.sim.stats.timeline or []
        return json_response(spans_as_json(spans, self.sim.stats.load.started_at))

    async def _sim_state(self, _request: web.Request) -> web.Response:
        lib = self.sim.lib
        state: dict[str, Any] = dict(lib.summary())
        state["version"] = self.sim.version_str
        state["faults"] = self.sim.faults.as_dict()
        state["users"] = [{"id": u.id, "email": u.email} for u in lib.users.values()]
        state["albums"] = [
            {"id": a.id, "name": a.name, "ownerId": a.owner_id, "assets": len(a.assets)}
            for a in lib.albums.values()
        ]
        state["tags"] = [
            {"id": t.id, "value": t.value, "ownerId": t.owner_id, "assets": len(t.assets)}
            for t in lib.tags.values()
        ]
        return json_response(state)

    async def _sim_view(self, request: web.Request) -> web.Response:
        """One user's tags, albums and dates (`view.py`): ?email=, default me@example.com."""
        return json_response(to_json(view(self.sim.lib, request.query.get("email", EMAIL))))

    async def _sim_reset(self, _request: web.Request) -> web.Response:
        self.sim.stats.reset()
        return json_response({"ok": True})

    async def _sim_faults(self, request: web.Request) -> web.Response:
        try:
            self.sim.faults.update(await request.json(loads=orjson.loads))
        except (KeyError, ValueError) as err:
            return json_response({"message": f"bad fault knob: {err}"}, 400)
        return json_response(self.sim.faults.as_dict())

    async def _sim_jobs(self, _request: web.Request) -> web.Response:
        return json_response({"applied": self.sim.run_metadata_jobs()})
