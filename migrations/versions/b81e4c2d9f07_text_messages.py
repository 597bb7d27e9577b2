"""text messages: numbers awaiting their code, opted-in numbers, the outbox, the daily cap

Numbers are stored encrypted, apart from the ticket; the outbox is written in the transaction of the change
that causes a message and delivered by `flask worker`. The ticket's contact number gets an index for
"send my number again".

Revision ID: b81e4c2d9f07
Revises: a7d3c91e5b40
Create Date: 2026-12-08 01:25:15.250073

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b81e4c2d9f07'
down_revision = 'a7d3c91e5b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('development_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('phone_cipher', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_development_message'))
    )
    with op.batch_alter_table('development_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_development_message_message_id'), ['message_id'], unique=False)

    op.create_table('message_day',
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('phone_hash', 'day', name=op.f('pk_message_day'))
    )
    op.create_table('message_phone_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('phone_cipher', sa.Text(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_message_phone_check_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_phone_check')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_message_phone_check_ticket_id'))
    )
    with op.batch_alter_table('message_phone_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_phone_check_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('message_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('phone_cipher', sa.Text(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_message_subscription_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_subscription')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_message_subscription_ticket_id'))
    )
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_subscription_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('template', sa.String(length=20), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('phone_cipher', sa.Text(), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'dead', 'cancelled', name='messagestate', native_enum=False, length=10), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_outbox_message_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_message_id'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_due', ['state', 'not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_contact_phone'), ['contact_phone'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_contact_phone'))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_phone_hash'))
        batch_op.drop_index('ix_outbox_message_due')

    op.drop_table('outbox_message')
    with op.batch_alter_table('message_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_subscription_phone_hash'))

    op.drop_table('message_subscription')
    with op.batch_alter_table('message_phone_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_phone_check_phone_hash'))

    op.drop_table('message_phone_check')
    op.drop_table('message_day')
    with op.batch_alter_table('development_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_development_message_message_id'))

    op.drop_table('development_message')
