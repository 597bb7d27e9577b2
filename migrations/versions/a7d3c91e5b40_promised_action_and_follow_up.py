"""closing the loop: the date a reply promises something by, and the request a new one continues

A satisfied rating keeps a case open until the promised date; a worker who writes again after a case was
closed and reopened once starts a new request linked to the old one (at most one per request).

Revision ID: a7d3c91e5b40
Revises: c35fa2e19b22
Create Date: 2026-12-07 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3c91e5b40'
down_revision = 'c35fa2e19b22'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('follows_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_ticket_follows_id'), ['follows_id'])
        batch_op.create_foreign_key(batch_op.f('fk_ticket_follows_id_ticket'), 'ticket', ['follows_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_follows_id_ticket'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_ticket_follows_id'), type_='unique')
        batch_op.drop_column('follows_id')
        batch_op.drop_column('promised_by')
