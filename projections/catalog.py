"""Every read model, by name: what `timebank project` runs and `timebank rebuild` rebuilds."""

from projections.access_log import AccessLog
from projections.balances import Balances
from projections.exchanges import Exchanges
from projections.marketplace import Marketplace
from projections.pool import Pool
from projections.staff_directory import StaffDirectory
from projections.statements import Statements

READ_MODELS = {
    model.name: model
    for model in (
        Balances(),
        Statements(),
        AccessLog(),
        StaffDirectory(),
        Marketplace(),
        Exchanges(),
        Pool(),
    )
}
