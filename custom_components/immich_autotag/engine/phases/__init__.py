"""The phases of docs/engine.md, one module each, run in this order by `engine.plan`.

Contract: every phase is `def run(state: State, rules: Rules) -> None`. It reads the State
(which already reflects the earlier phases) and records its changes on it through the State's
methods (`add_tag`, `remove_tag`, `album_for`, `add_to_album`, `remove_from_album`,
`delete_album`, `set_date`, `set_album_user`, `delete_tag`, `note`, `counters`). It never
touches the Library, never does I/O, and only changes in-scope assets (`state.scope`).
"""
