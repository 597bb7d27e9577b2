"""second factor: TOTP secret and last step on the account, recovery codes, the record of changes

Staff and administrators enrol at their next sign-in; nobody's existing sign-in changes otherwise.

Revision ID: c35fa2e19b22
Revises: ea12db665835
Create Date: 2026-11-23 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c35fa2e19b22'
down_revision = 'ea12db665835'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    sa.UniqueConstraint('user_id', 'code_hash', name=op.f('uq_recovery_code_user_id'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('second_factor_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.Enum('enrolled', 'codes_renewed', 'turned_off', 'reset', name='secondfactorchange',
                                native_enum=False, length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'],
                            name=op.f('fk_second_factor_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_second_factor_event_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_second_factor_event'))
    )
    with op.batch_alter_table('second_factor_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_factor_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_second_factor_event_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('second_factor_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_factor_event_user_id'))
        batch_op.drop_index(batch_op.f('ix_second_factor_event_at'))
    op.drop_table('second_factor_event')

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_enrolled_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
