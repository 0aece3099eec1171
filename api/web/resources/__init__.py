"""REST resources, one package each: routes.py (thin MethodViews) and schemas.py."""

from api.web.resources.action.routes import blp as action_blp
from api.web.resources.audit.routes import blp as audit_blp
from api.web.resources.auth.routes import blp as auth_blp
from api.web.resources.baremetal.routes import blp as baremetal_blp
from api.web.resources.health.routes import blp as health_blp
from api.web.resources.image.routes import blp as image_blp
from api.web.resources.job.routes import blp as job_blp
from api.web.resources.snapshot.routes import blp as snapshot_blp
from api.web.resources.tenant.routes import blp as tenant_blp
from api.web.resources.usage.routes import blp as usage_blp
from api.web.resources.user.routes import blp as user_blp
from api.web.resources.vm.routes import blp as vm_blp

BLUEPRINTS = (
    health_blp,
    auth_blp,
    user_blp,
    tenant_blp,
    vm_blp,
    snapshot_blp,
    image_blp,
    action_blp,
    job_blp,
    baremetal_blp,
    audit_blp,
    usage_blp,
)
