"""Options flow of Immich AutoTag: rules YAML (in the code editor), run interval, limits.

Options are read at the start of every run, so saving them needs no reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TemplateSelector,
)

from .const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_NOTIFY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    CONF_WATCH_INTERVAL,
    CONF_WATCH_SETTLE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RPS,
    DEFAULT_NOTIFY,
    DEFAULT_RUN_INTERVAL,
    DEFAULT_WATCH_INTERVAL,
    DEFAULT_WATCH_SETTLE,
    MAX_CONCURRENCY,
    MAX_RPS,
)
from .engine.default_rules import default_rules_yaml
from .engine.rules_loader import validate_rules_text

MAX_RUN_INTERVAL = 10080  # one week, in minutes
MIN_CONCURRENCY = 1


class RulesEditorSelector(TemplateSelector):
    """Home Assistant's code editor for the rules YAML: monospace, line numbers, grows.

    No selector renders the code editor for plain text: `text` (multiline) is a proportional
    textarea, `object` parses the YAML in the browser (comments and the predecessor's tags are
    lost). The template selector renders the code editor on every Home Assistant version
    (2025.4 to 2026.x); this subclass keeps its rendering but takes the text as typed: no
    Jinja check and no stripping, so the line numbers of rule errors match the editor's.
    """

    def __call__(self, data: Any) -> str:
        """The rules text, unchanged (validated as rules on submit)."""
        if not isinstance(data, str):
            msg = "rules must be text"
            raise vol.Invalid(msg)
        return data


def _minutes() -> NumberSelector:
    """Whole minutes, 0 to a week."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0,
            max=MAX_RUN_INTERVAL,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="min",
        )
    )


def _options_schema(values: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_RULES, default=values[CONF_RULES]): RulesEditorSelector(),
            vol.Required(CONF_RUN_INTERVAL, default=values[CONF_RUN_INTERVAL]): _minutes(),
            vol.Required(CONF_MAX_CONCURRENCY, default=values[CONF_MAX_CONCURRENCY]): (
                NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_CONCURRENCY,
                        max=MAX_CONCURRENCY,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                    )
                )
            ),
            vol.Required(CONF_MAX_RPS, default=values[CONF_MAX_RPS]): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=MAX_RPS,
                    step="any",
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="req/s",
                )
            ),
            vol.Required(CONF_NOTIFY, default=values[CONF_NOTIFY]): BooleanSelector(),
            vol.Required(CONF_WATCH_INTERVAL, default=values[CONF_WATCH_INTERVAL]): _minutes(),
            vol.Required(CONF_WATCH_SETTLE, default=values[CONF_WATCH_SETTLE]): _minutes(),
        }
    )


class ImmichAutoTagOptionsFlow(OptionsFlow):
    """Rules YAML, run interval and request limits; read at the next run (no reload)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Edit the options; the rules are validated before they are saved."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            rules_text = str(user_input.get(CONF_RULES, ""))
            _rules, error = validate_rules_text(rules_text)
            if error is None:
                return self.async_create_entry(
                    data={
                        CONF_RULES: rules_text,
                        CONF_RUN_INTERVAL: int(user_input[CONF_RUN_INTERVAL]),
                        CONF_MAX_CONCURRENCY: int(user_input[CONF_MAX_CONCURRENCY]),
                        CONF_MAX_RPS: float(user_input[CONF_MAX_RPS]),
                        CONF_NOTIFY: bool(user_input.get(CONF_NOTIFY, DEFAULT_NOTIFY)),
                        CONF_WATCH_INTERVAL: int(
                            user_input.get(CONF_WATCH_INTERVAL, DEFAULT_WATCH_INTERVAL)
                        ),
                        CONF_WATCH_SETTLE: int(
                            user_input.get(CONF_WATCH_SETTLE, DEFAULT_WATCH_SETTLE)
                        ),
                    }
                )
            errors[CONF_RULES] = "invalid_rules"
            placeholders["error"] = str(error)
            values: Mapping[str, Any] = user_input
        else:
            options = self.config_entry.options
            values = {
                CONF_RULES: options.get(CONF_RULES)
                or default_rules_yaml(self.hass.config.time_zone),
                CONF_RUN_INTERVAL: options.get(CONF_RUN_INTERVAL, DEFAULT_RUN_INTERVAL),
                CONF_MAX_CONCURRENCY: options.get(CONF_MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY),
                CONF_MAX_RPS: options.get(CONF_MAX_RPS, DEFAULT_MAX_RPS),
                CONF_NOTIFY: options.get(CONF_NOTIFY, DEFAULT_NOTIFY),
                CONF_WATCH_INTERVAL: options.get(CONF_WATCH_INTERVAL, DEFAULT_WATCH_INTERVAL),
                CONF_WATCH_SETTLE: options.get(CONF_WATCH_SETTLE, DEFAULT_WATCH_SETTLE),
            }
        return self.async_show_form(
            step_id="init",
            data_schema=_options_schema(values),
            errors=errors,
            description_placeholders=placeholders,
        )
