"""Every read model, by name: what `timebank project` runs and `timebank rebuild` rebuilds."""

from projections.access_log import AccessLog
from projections.balances import Balances
from projections.certificates import Certificates
from projections.council import Council
from projections.exchanges import Exchanges
from projections.flows import Flows
from projections.hours import Hours
from projections.kiosks import Kiosks
from projections.marketplace import Marketplace
from projections.monitoring import Monitoring
from projections.pool import Pool
from projections.staff_directory import StaffDirectory
from projections.statements import Statements
from projections.stations import Stations
from projections.volunteers import Volunteers

READ_MODELS = {
    model.name: model
    for model in (
        Balances(),
        Statements(),
        AccessLog(),
        StaffDirectory(),
        Kiosks(),
        Marketplace(),
        Exchanges(),
        Pool(),
        Volunteers(),
        Hours(),
        Certificates(),
        Monitoring(),
        Council(),
        Stations(),
        Flows(),
    )
}
