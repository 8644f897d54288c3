"""The roles every installation starts with (MISSION H4).

Chain roles hold everywhere; venue roles are meant to be assigned per venue (an assignment
without a venue holds in every venue). Plugins name these codes in their permissions'
``default_roles``; the system administrator holds every permission without grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.i18n import N_, _

CHAIN = "chain"
VENUE = "venue"
SCOPES = (CHAIN, VENUE)

SYSTEM_ADMIN = "system_admin"


@dataclass(frozen=True)
class DefaultRole:
    code: str
    name: str  # English msgid; shown through _()
    scope: str

    @property
    def title(self) -> str:
        return _(self.name)


DEFAULT_ROLES: tuple[DefaultRole, ...] = (
    DefaultRole(SYSTEM_ADMIN, N_("System administrator"), CHAIN),          # 系统管理员
    DefaultRole("statistician", N_("Statistician"), CHAIN),                # 统计员
    DefaultRole("operator", N_("Operator"), CHAIN),                        # 操作员
    DefaultRole("finance", N_("Finance"), CHAIN),                          # 财务
    DefaultRole("manager", N_("Venue manager"), VENUE),                    # 场馆经理
    DefaultRole("local_statistician", N_("Local statistician"), VENUE),    # 本地统计员
    DefaultRole("self_query", N_("Customer self-query"), VENUE),           # 客户自助查询
    DefaultRole("salesperson", N_("Salesperson"), VENUE),                  # 售票员
    DefaultRole("gate_attendant", N_("Gate attendant"), VENUE),            # 检票员
    DefaultRole("rental_clerk", N_("Rental clerk"), VENUE),                # 租赁员
)

DEFAULT_ROLE_CODES = frozenset(role.code for role in DEFAULT_ROLES)


def scope_title(scope: str) -> str:
    return {CHAIN: _("Chain"), VENUE: _("Venue")}.get(scope, scope)
