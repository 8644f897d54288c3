"""wallet: POS acceptance, gift scope, points redemption, offline cap, discount rules, settlement
prices, settlements and purse records

Revision ID: wallet_0002
Revises: wallet_0001
Create Date: 2026-11-22 08:14:49

New columns on existing tables carry server defaults so cards and types made under
wallet_0001 keep working (accepted everywhere, gift pays everywhere, 100.00 offline cap).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import suite.db.base


revision: str = 'wallet_0002'
down_revision: str | Sequence[str] | None = 'wallet_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wallet_discount_rules',
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('multiplier_bp', sa.Integer(), nullable=False),
    sa.Column('combinable', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('venues', sa.Text(), nullable=False),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('weekdays', sa.String(length=20), nullable=False),
    sa.Column('film_grades', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('venue_id', sa.Uuid(), nullable=True),
    sa.Column('terminal_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('time_slot', 'film_grade')", name=op.f('ck_wallet_discount_rules_kind')),
    sa.CheckConstraint('multiplier_bp >= 5000 AND multiplier_bp <= 9000', name=op.f('ck_wallet_discount_rules_multiplier_bp')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_discount_rules')),
    sa.UniqueConstraint('rule_id', name=op.f('uq_wallet_discount_rules_rule_id'))
    )
    with op.batch_alter_table('wallet_discount_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_discount_rules_venue_id'), ['venue_id'], unique=False)

    op.create_table('wallet_settlements',
    sa.Column('venue_code', sa.String(length=32), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('settled_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_by', sa.String(length=128), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('recharge_total', sa.BigInteger(), nullable=False),
    sa.Column('consume_total', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('venue_id', sa.Uuid(), nullable=True),
    sa.Column('terminal_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('date_to >= date_from', name=op.f('ck_wallet_settlements_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_settlements'))
    )
    with op.batch_alter_table('wallet_settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_settlements_venue_id'), ['venue_id'], unique=False)

    op.create_table('wallet_settlement_prices',
    sa.Column('type_id', sa.Uuid(), nullable=False),
    sa.Column('venue_code', sa.String(length=32), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('venue_id', sa.Uuid(), nullable=True),
    sa.Column('terminal_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rate_bp >= 0 AND rate_bp <= 10000', name=op.f('ck_wallet_settlement_prices_rate_bp')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_wallet_settlement_prices_unit_price')),
    sa.ForeignKeyConstraint(['type_id'], ['wallet_card_types.id'], name=op.f('fk_wallet_settlement_prices_type_id_wallet_card_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_settlement_prices')),
    sa.UniqueConstraint('type_id', 'venue_code', name=op.f('uq_wallet_settlement_prices_type_id_venue_code'))
    )
    with op.batch_alter_table('wallet_settlement_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_settlement_prices_venue_id'), ['venue_id'], unique=False)

    op.create_table('wallet_purse_records',
    sa.Column('card_id', sa.Uuid(), nullable=False),
    sa.Column('counter', sa.BigInteger(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('value_after', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('terminal_code', sa.String(length=64), nullable=False),
    sa.Column('at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('venue_id', sa.Uuid(), nullable=True),
    sa.Column('terminal_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', suite.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['wallet_cards.id'], name=op.f('fk_wallet_purse_records_card_id_wallet_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_purse_records')),
    sa.UniqueConstraint('card_id', 'counter', name=op.f('uq_wallet_purse_records_card_id_counter'))
    )
    with op.batch_alter_table('wallet_purse_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_purse_records_venue_id'), ['venue_id'], unique=False)

    with op.batch_alter_table('wallet_card_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merchant', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('terminal_code', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('offline', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('settlement_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_wallet_card_events_settlement_id'), ['settlement_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_wallet_card_events_settlement_id_wallet_settlements'), 'wallet_settlements', ['settlement_id'], ['id'])

    with op.batch_alter_table('wallet_card_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_merchants', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accepted_terminal_groups', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('gift_categories', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('gift_merchants', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pay_gift_first', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('redeem_points_per_unit', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('redeem_fen_per_unit', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('redeem_cap_bp', sa.Integer(), nullable=False, server_default='10000'))
        batch_op.add_column(sa.Column('offline_cap', sa.BigInteger(), nullable=False, server_default='10000'))

    with op.batch_alter_table('wallet_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purse_fingerprint', sa.String(length=64), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('wallet_cards', schema=None) as batch_op:
        batch_op.drop_column('purse_fingerprint')

    with op.batch_alter_table('wallet_card_types', schema=None) as batch_op:
        batch_op.drop_column('offline_cap')
        batch_op.drop_column('redeem_cap_bp')
        batch_op.drop_column('redeem_fen_per_unit')
        batch_op.drop_column('redeem_points_per_unit')
        batch_op.drop_column('pay_gift_first')
        batch_op.drop_column('gift_merchants')
        batch_op.drop_column('gift_categories')
        batch_op.drop_column('accepted_terminal_groups')
        batch_op.drop_column('accepted_merchants')

    with op.batch_alter_table('wallet_card_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_wallet_card_events_settlement_id_wallet_settlements'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_wallet_card_events_settlement_id'))
        batch_op.drop_column('settlement_id')
        batch_op.drop_column('offline')
        batch_op.drop_column('device')
        batch_op.drop_column('terminal_code')
        batch_op.drop_column('merchant')

    with op.batch_alter_table('wallet_purse_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_purse_records_venue_id'))

    op.drop_table('wallet_purse_records')
    with op.batch_alter_table('wallet_settlement_prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_settlement_prices_venue_id'))

    op.drop_table('wallet_settlement_prices')
    with op.batch_alter_table('wallet_settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_settlements_venue_id'))

    op.drop_table('wallet_settlements')
    with op.batch_alter_table('wallet_discount_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_discount_rules_venue_id'))

    op.drop_table('wallet_discount_rules')
