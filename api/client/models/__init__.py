""" Contains all the data models used in inputs/outputs """

from .account_disabled_error import AccountDisabledError
from .account_disabled_error_body import AccountDisabledErrorBody
from .account_disabled_error_body_code import AccountDisabledErrorBodyCode
from .action import Action
from .action_actor_type_1_type_0 import ActionActorType1Type0
from .action_list_envelope import ActionListEnvelope
from .action_list_envelope_status import ActionListEnvelopeStatus
from .action_result import ActionResult
from .actor import Actor
from .address import Address
from .address_source import AddressSource
from .already_exists_error import AlreadyExistsError
from .already_exists_error_body import AlreadyExistsErrorBody
from .already_exists_error_body_code import AlreadyExistsErrorBodyCode
from .audit_entry import AuditEntry
from .audit_entry_changes import AuditEntryChanges
from .audit_entry_envelope import AuditEntryEnvelope
from .audit_entry_envelope_status import AuditEntryEnvelopeStatus
from .audit_entry_list_envelope import AuditEntryListEnvelope
from .audit_entry_list_envelope_status import AuditEntryListEnvelopeStatus
from .audit_entry_outcome import AuditEntryOutcome
from .audit_list_outcome import AuditListOutcome
from .auth_required_error import AuthRequiredError
from .auth_required_error_body import AuthRequiredErrorBody
from .auth_required_error_body_code import AuthRequiredErrorBodyCode
from .bad_request_error import BadRequestError
from .bad_request_error_body import BadRequestErrorBody
from .bad_request_error_body_code import BadRequestErrorBodyCode
from .baremetal import Baremetal
from .baremetal_allocated import BaremetalAllocated
from .baremetal_allocation_ratios import BaremetalAllocationRatios
from .baremetal_array_envelope import BaremetalArrayEnvelope
from .baremetal_array_envelope_status import BaremetalArrayEnvelopeStatus
from .baremetal_capacity import BaremetalCapacity
from .baremetal_declared import BaremetalDeclared
from .baremetal_discovered_type_0 import BaremetalDiscoveredType0
from .baremetal_envelope import BaremetalEnvelope
from .baremetal_envelope_status import BaremetalEnvelopeStatus
from .baremetal_free import BaremetalFree
from .baremetal_list_envelope import BaremetalListEnvelope
from .baremetal_list_envelope_status import BaremetalListEnvelopeStatus
from .baremetal_overrides import BaremetalOverrides
from .baremetal_reserved import BaremetalReserved
from .baremetal_state import BaremetalState
from .baremetal_unmanaged import BaremetalUnmanaged
from .conflict_error import ConflictError
from .conflict_error_body import ConflictErrorBody
from .conflict_error_body_code import ConflictErrorBodyCode
from .dedicate import Dedicate
from .dependency_unavailable_error import DependencyUnavailableError
from .dependency_unavailable_error_body import DependencyUnavailableErrorBody
from .dependency_unavailable_error_body_code import DependencyUnavailableErrorBodyCode
from .disk_too_small_error import DiskTooSmallError
from .disk_too_small_error_body import DiskTooSmallErrorBody
from .disk_too_small_error_body_code import DiskTooSmallErrorBodyCode
from .error_body import ErrorBody
from .error_body_details import ErrorBodyDetails
from .error_details import ErrorDetails
from .error_envelope import ErrorEnvelope
from .error_envelope_status import ErrorEnvelopeStatus
from .error_status import ErrorStatus
from .events_purged_error import EventsPurgedError
from .events_purged_error_body import EventsPurgedErrorBody
from .events_purged_error_body_code import EventsPurgedErrorBodyCode
from .fresh_token_required_error import FreshTokenRequiredError
from .fresh_token_required_error_body import FreshTokenRequiredErrorBody
from .fresh_token_required_error_body_code import FreshTokenRequiredErrorBodyCode
from .grant import Grant
from .grant_envelope import GrantEnvelope
from .grant_envelope_status import GrantEnvelopeStatus
from .grant_list_envelope import GrantListEnvelope
from .grant_list_envelope_status import GrantListEnvelopeStatus
from .grant_object_type import GrantObjectType
from .health import Health
from .health_envelope import HealthEnvelope
from .health_envelope_status import HealthEnvelopeStatus
from .idempotency_key_reused_error import IdempotencyKeyReusedError
from .idempotency_key_reused_error_body import IdempotencyKeyReusedErrorBody
from .idempotency_key_reused_error_body_code import IdempotencyKeyReusedErrorBodyCode
from .image import Image
from .image_create import ImageCreate
from .image_create_format import ImageCreateFormat
from .image_create_visibility import ImageCreateVisibility
from .image_envelope import ImageEnvelope
from .image_envelope_status import ImageEnvelopeStatus
from .image_format import ImageFormat
from .image_in_use_error import ImageInUseError
from .image_in_use_error_body import ImageInUseErrorBody
from .image_in_use_error_body_code import ImageInUseErrorBodyCode
from .image_invalid_error import ImageInvalidError
from .image_invalid_error_body import ImageInvalidErrorBody
from .image_invalid_error_body_code import ImageInvalidErrorBodyCode
from .image_list_envelope import ImageListEnvelope
from .image_list_envelope_status import ImageListEnvelopeStatus
from .image_list_status import ImageListStatus
from .image_list_visibility import ImageListVisibility
from .image_status import ImageStatus
from .image_visibility import ImageVisibility
from .invalid_credentials_error import InvalidCredentialsError
from .invalid_credentials_error_body import InvalidCredentialsErrorBody
from .invalid_credentials_error_body_code import InvalidCredentialsErrorBodyCode
from .invalid_state_error import InvalidStateError
from .invalid_state_error_body import InvalidStateErrorBody
from .invalid_state_error_body_code import InvalidStateErrorBodyCode
from .job import Job
from .job_artifacts import JobArtifacts
from .job_envelope import JobEnvelope
from .job_envelope_status import JobEnvelopeStatus
from .job_event import JobEvent
from .job_event_list_envelope import JobEventListEnvelope
from .job_event_list_envelope_status import JobEventListEnvelopeStatus
from .job_event_summary import JobEventSummary
from .job_kind import JobKind
from .job_list_envelope import JobListEnvelope
from .job_list_envelope_status import JobListEnvelopeStatus
from .job_list_status import JobListStatus
from .job_status import JobStatus
from .job_stdout import JobStdout
from .job_stdout_envelope import JobStdoutEnvelope
from .job_stdout_envelope_status import JobStdoutEnvelopeStatus
from .job_stdout_get_format import JobStdoutGetFormat
from .list_meta import ListMeta
from .login import Login
from .logout import Logout
from .logout_envelope import LogoutEnvelope
from .logout_envelope_status import LogoutEnvelopeStatus
from .maintenance import Maintenance
from .me import Me
from .me_envelope import MeEnvelope
from .me_envelope_status import MeEnvelopeStatus
from .member import Member
from .member_create import MemberCreate
from .member_create_role import MemberCreateRole
from .member_envelope import MemberEnvelope
from .member_envelope_status import MemberEnvelopeStatus
from .member_list_envelope import MemberListEnvelope
from .member_list_envelope_status import MemberListEnvelopeStatus
from .member_removed import MemberRemoved
from .member_removed_envelope import MemberRemovedEnvelope
from .member_removed_envelope_status import MemberRemovedEnvelopeStatus
from .member_removed_role import MemberRemovedRole
from .member_role import MemberRole
from .meta import Meta
from .method_not_allowed_error import MethodNotAllowedError
from .method_not_allowed_error_body import MethodNotAllowedErrorBody
from .method_not_allowed_error_body_code import MethodNotAllowedErrorBodyCode
from .name_taken_error import NameTakenError
from .name_taken_error_body import NameTakenErrorBody
from .name_taken_error_body_code import NameTakenErrorBodyCode
from .no_capacity_error import NoCapacityError
from .no_capacity_error_body import NoCapacityErrorBody
from .no_capacity_error_body_code import NoCapacityErrorBodyCode
from .not_found_error import NotFoundError
from .not_found_error_body import NotFoundErrorBody
from .not_found_error_body_code import NotFoundErrorBodyCode
from .object_grant import ObjectGrant
from .pagination import Pagination
from .pagination_metadata import PaginationMetadata
from .password_change import PasswordChange
from .password_changed import PasswordChanged
from .password_changed_envelope import PasswordChangedEnvelope
from .password_changed_envelope_status import PasswordChangedEnvelopeStatus
from .payload_too_large_error import PayloadTooLargeError
from .payload_too_large_error_body import PayloadTooLargeErrorBody
from .payload_too_large_error_body_code import PayloadTooLargeErrorBodyCode
from .permission_denied_error import PermissionDeniedError
from .permission_denied_error_body import PermissionDeniedErrorBody
from .permission_denied_error_body_code import PermissionDeniedErrorBodyCode
from .progress import Progress
from .quota import Quota
from .quota_check import QuotaCheck
from .quota_check_result import QuotaCheckResult
from .quota_check_result_envelope import QuotaCheckResultEnvelope
from .quota_check_result_envelope_status import QuotaCheckResultEnvelopeStatus
from .quota_envelope import QuotaEnvelope
from .quota_envelope_status import QuotaEnvelopeStatus
from .quota_exceeded import QuotaExceeded
from .quota_exceeded_error import QuotaExceededError
from .quota_exceeded_error_body import QuotaExceededErrorBody
from .quota_exceeded_error_body_code import QuotaExceededErrorBodyCode
from .quota_limits import QuotaLimits
from .quota_resources import QuotaResources
from .rate_limited_error import RateLimitedError
from .rate_limited_error_body import RateLimitedErrorBody
from .rate_limited_error_body_code import RateLimitedErrorBodyCode
from .resource import Resource
from .resource_busy_error import ResourceBusyError
from .resource_busy_error_body import ResourceBusyErrorBody
from .resource_busy_error_body_code import ResourceBusyErrorBodyCode
from .scheduler_unavailable_error import SchedulerUnavailableError
from .scheduler_unavailable_error_body import SchedulerUnavailableErrorBody
from .scheduler_unavailable_error_body_code import SchedulerUnavailableErrorBodyCode
from .snapshot import Snapshot
from .snapshot_create import SnapshotCreate
from .snapshot_envelope import SnapshotEnvelope
from .snapshot_envelope_status import SnapshotEnvelopeStatus
from .snapshot_list_envelope import SnapshotListEnvelope
from .snapshot_list_envelope_status import SnapshotListEnvelopeStatus
from .snapshot_list_status import SnapshotListStatus
from .snapshot_power_state_type_1 import SnapshotPowerStateType1
from .snapshot_power_state_type_2_type_1 import SnapshotPowerStateType2Type1
from .snapshot_power_state_type_3_type_1 import SnapshotPowerStateType3Type1
from .snapshot_status import SnapshotStatus
from .ssh_route import SSHRoute
from .ssh_route_envelope import SSHRouteEnvelope
from .ssh_route_envelope_status import SSHRouteEnvelopeStatus
from .ssh_route_jump_type_0 import SSHRouteJumpType0
from .tenant import Tenant
from .tenant_access import TenantAccess
from .tenant_access_role_type_1 import TenantAccessRoleType1
from .tenant_access_role_type_2_type_1 import TenantAccessRoleType2Type1
from .tenant_access_role_type_3_type_1 import TenantAccessRoleType3Type1
from .tenant_access_status import TenantAccessStatus
from .tenant_create import TenantCreate
from .tenant_envelope import TenantEnvelope
from .tenant_envelope_status import TenantEnvelopeStatus
from .tenant_grant_args import TenantGrantArgs
from .tenant_grant_args_permission import TenantGrantArgsPermission
from .tenant_list_envelope import TenantListEnvelope
from .tenant_list_envelope_status import TenantListEnvelopeStatus
from .tenant_not_empty_error import TenantNotEmptyError
from .tenant_not_empty_error_body import TenantNotEmptyErrorBody
from .tenant_not_empty_error_body_code import TenantNotEmptyErrorBodyCode
from .tenant_permission_revoke_permission import TenantPermissionRevokePermission
from .tenant_status import TenantStatus
from .tenant_update import TenantUpdate
from .token import Token
from .token_envelope import TokenEnvelope
from .token_envelope_status import TokenEnvelopeStatus
from .token_expired_error import TokenExpiredError
from .token_expired_error_body import TokenExpiredErrorBody
from .token_expired_error_body_code import TokenExpiredErrorBodyCode
from .token_invalid_error import TokenInvalidError
from .token_invalid_error_body import TokenInvalidErrorBody
from .token_invalid_error_body_code import TokenInvalidErrorBodyCode
from .token_revoked_error import TokenRevokedError
from .token_revoked_error_body import TokenRevokedErrorBody
from .token_revoked_error_body_code import TokenRevokedErrorBodyCode
from .unmanaged_domain import UnmanagedDomain
from .unsupported_media_type_error import UnsupportedMediaTypeError
from .unsupported_media_type_error_body import UnsupportedMediaTypeErrorBody
from .unsupported_media_type_error_body_code import UnsupportedMediaTypeErrorBodyCode
from .usage import Usage
from .usage_list_envelope import UsageListEnvelope
from .usage_list_envelope_status import UsageListEnvelopeStatus
from .usage_resources import UsageResources
from .usage_tenant_status import UsageTenantStatus
from .user import User
from .user_create import UserCreate
from .user_envelope import UserEnvelope
from .user_envelope_status import UserEnvelopeStatus
from .user_list_envelope import UserListEnvelope
from .user_list_envelope_status import UserListEnvelopeStatus
from .user_update import UserUpdate
from .validation_error import ValidationError
from .validation_error_body import ValidationErrorBody
from .validation_error_body_code import ValidationErrorBodyCode
from .vm import VM
from .vm_action_list_result import VmActionListResult
from .vm_create import VMCreate
from .vm_envelope import VMEnvelope
from .vm_envelope_status import VMEnvelopeStatus
from .vm_grant_args import VmGrantArgs
from .vm_grant_args_permission import VmGrantArgsPermission
from .vm_host_state_type_1 import VMHostStateType1
from .vm_host_state_type_2_type_1 import VMHostStateType2Type1
from .vm_host_state_type_3_type_1 import VMHostStateType3Type1
from .vm_list_envelope import VMListEnvelope
from .vm_list_envelope_status import VMListEnvelopeStatus
from .vm_list_host_state import VmListHostState
from .vm_list_status import VmListStatus
from .vm_permission_revoke_permission import VmPermissionRevokePermission
from .vm_reboot import VMReboot
from .vm_resize import VMResize
from .vm_start import VMStart
from .vm_status import VMStatus
from .vm_stop import VMStop

__all__ = (
    "AccountDisabledError",
    "AccountDisabledErrorBody",
    "AccountDisabledErrorBodyCode",
    "Action",
    "ActionActorType1Type0",
    "ActionListEnvelope",
    "ActionListEnvelopeStatus",
    "ActionResult",
    "Actor",
    "Address",
    "AddressSource",
    "AlreadyExistsError",
    "AlreadyExistsErrorBody",
    "AlreadyExistsErrorBodyCode",
    "AuditEntry",
    "AuditEntryChanges",
    "AuditEntryEnvelope",
    "AuditEntryEnvelopeStatus",
    "AuditEntryListEnvelope",
    "AuditEntryListEnvelopeStatus",
    "AuditEntryOutcome",
    "AuditListOutcome",
    "AuthRequiredError",
    "AuthRequiredErrorBody",
    "AuthRequiredErrorBodyCode",
    "BadRequestError",
    "BadRequestErrorBody",
    "BadRequestErrorBodyCode",
    "Baremetal",
    "BaremetalAllocated",
    "BaremetalAllocationRatios",
    "BaremetalArrayEnvelope",
    "BaremetalArrayEnvelopeStatus",
    "BaremetalCapacity",
    "BaremetalDeclared",
    "BaremetalDiscoveredType0",
    "BaremetalEnvelope",
    "BaremetalEnvelopeStatus",
    "BaremetalFree",
    "BaremetalListEnvelope",
    "BaremetalListEnvelopeStatus",
    "BaremetalOverrides",
    "BaremetalReserved",
    "BaremetalState",
    "BaremetalUnmanaged",
    "ConflictError",
    "ConflictErrorBody",
    "ConflictErrorBodyCode",
    "Dedicate",
    "DependencyUnavailableError",
    "DependencyUnavailableErrorBody",
    "DependencyUnavailableErrorBodyCode",
    "DiskTooSmallError",
    "DiskTooSmallErrorBody",
    "DiskTooSmallErrorBodyCode",
    "ErrorBody",
    "ErrorBodyDetails",
    "ErrorDetails",
    "ErrorEnvelope",
    "ErrorEnvelopeStatus",
    "ErrorStatus",
    "EventsPurgedError",
    "EventsPurgedErrorBody",
    "EventsPurgedErrorBodyCode",
    "FreshTokenRequiredError",
    "FreshTokenRequiredErrorBody",
    "FreshTokenRequiredErrorBodyCode",
    "Grant",
    "GrantEnvelope",
    "GrantEnvelopeStatus",
    "GrantListEnvelope",
    "GrantListEnvelopeStatus",
    "GrantObjectType",
    "Health",
    "HealthEnvelope",
    "HealthEnvelopeStatus",
    "IdempotencyKeyReusedError",
    "IdempotencyKeyReusedErrorBody",
    "IdempotencyKeyReusedErrorBodyCode",
    "Image",
    "ImageCreate",
    "ImageCreateFormat",
    "ImageCreateVisibility",
    "ImageEnvelope",
    "ImageEnvelopeStatus",
    "ImageFormat",
    "ImageInUseError",
    "ImageInUseErrorBody",
    "ImageInUseErrorBodyCode",
    "ImageInvalidError",
    "ImageInvalidErrorBody",
    "ImageInvalidErrorBodyCode",
    "ImageListEnvelope",
    "ImageListEnvelopeStatus",
    "ImageListStatus",
    "ImageListVisibility",
    "ImageStatus",
    "ImageVisibility",
    "InvalidCredentialsError",
    "InvalidCredentialsErrorBody",
    "InvalidCredentialsErrorBodyCode",
    "InvalidStateError",
    "InvalidStateErrorBody",
    "InvalidStateErrorBodyCode",
    "Job",
    "JobArtifacts",
    "JobEnvelope",
    "JobEnvelopeStatus",
    "JobEvent",
    "JobEventListEnvelope",
    "JobEventListEnvelopeStatus",
    "JobEventSummary",
    "JobKind",
    "JobListEnvelope",
    "JobListEnvelopeStatus",
    "JobListStatus",
    "JobStatus",
    "JobStdout",
    "JobStdoutEnvelope",
    "JobStdoutEnvelopeStatus",
    "JobStdoutGetFormat",
    "ListMeta",
    "Login",
    "Logout",
    "LogoutEnvelope",
    "LogoutEnvelopeStatus",
    "Maintenance",
    "Me",
    "MeEnvelope",
    "MeEnvelopeStatus",
    "Member",
    "MemberCreate",
    "MemberCreateRole",
    "MemberEnvelope",
    "MemberEnvelopeStatus",
    "MemberListEnvelope",
    "MemberListEnvelopeStatus",
    "MemberRemoved",
    "MemberRemovedEnvelope",
    "MemberRemovedEnvelopeStatus",
    "MemberRemovedRole",
    "MemberRole",
    "Meta",
    "MethodNotAllowedError",
    "MethodNotAllowedErrorBody",
    "MethodNotAllowedErrorBodyCode",
    "NameTakenError",
    "NameTakenErrorBody",
    "NameTakenErrorBodyCode",
    "NoCapacityError",
    "NoCapacityErrorBody",
    "NoCapacityErrorBodyCode",
    "NotFoundError",
    "NotFoundErrorBody",
    "NotFoundErrorBodyCode",
    "ObjectGrant",
    "Pagination",
    "PaginationMetadata",
    "PasswordChange",
    "PasswordChanged",
    "PasswordChangedEnvelope",
    "PasswordChangedEnvelopeStatus",
    "PayloadTooLargeError",
    "PayloadTooLargeErrorBody",
    "PayloadTooLargeErrorBodyCode",
    "PermissionDeniedError",
    "PermissionDeniedErrorBody",
    "PermissionDeniedErrorBodyCode",
    "Progress",
    "Quota",
    "QuotaCheck",
    "QuotaCheckResult",
    "QuotaCheckResultEnvelope",
    "QuotaCheckResultEnvelopeStatus",
    "QuotaEnvelope",
    "QuotaEnvelopeStatus",
    "QuotaExceeded",
    "QuotaExceededError",
    "QuotaExceededErrorBody",
    "QuotaExceededErrorBodyCode",
    "QuotaLimits",
    "QuotaResources",
    "RateLimitedError",
    "RateLimitedErrorBody",
    "RateLimitedErrorBodyCode",
    "Resource",
    "ResourceBusyError",
    "ResourceBusyErrorBody",
    "ResourceBusyErrorBodyCode",
    "SchedulerUnavailableError",
    "SchedulerUnavailableErrorBody",
    "SchedulerUnavailableErrorBodyCode",
    "Snapshot",
    "SnapshotCreate",
    "SnapshotEnvelope",
    "SnapshotEnvelopeStatus",
    "SnapshotListEnvelope",
    "SnapshotListEnvelopeStatus",
    "SnapshotListStatus",
    "SnapshotPowerStateType1",
    "SnapshotPowerStateType2Type1",
    "SnapshotPowerStateType3Type1",
    "SnapshotStatus",
    "SSHRoute",
    "SSHRouteEnvelope",
    "SSHRouteEnvelopeStatus",
    "SSHRouteJumpType0",
    "Tenant",
    "TenantAccess",
    "TenantAccessRoleType1",
    "TenantAccessRoleType2Type1",
    "TenantAccessRoleType3Type1",
    "TenantAccessStatus",
    "TenantCreate",
    "TenantEnvelope",
    "TenantEnvelopeStatus",
    "TenantGrantArgs",
    "TenantGrantArgsPermission",
    "TenantListEnvelope",
    "TenantListEnvelopeStatus",
    "TenantNotEmptyError",
    "TenantNotEmptyErrorBody",
    "TenantNotEmptyErrorBodyCode",
    "TenantPermissionRevokePermission",
    "TenantStatus",
    "TenantUpdate",
    "Token",
    "TokenEnvelope",
    "TokenEnvelopeStatus",
    "TokenExpiredError",
    "TokenExpiredErrorBody",
    "TokenExpiredErrorBodyCode",
    "TokenInvalidError",
    "TokenInvalidErrorBody",
    "TokenInvalidErrorBodyCode",
    "TokenRevokedError",
    "TokenRevokedErrorBody",
    "TokenRevokedErrorBodyCode",
    "UnmanagedDomain",
    "UnsupportedMediaTypeError",
    "UnsupportedMediaTypeErrorBody",
    "UnsupportedMediaTypeErrorBodyCode",
    "Usage",
    "UsageListEnvelope",
    "UsageListEnvelopeStatus",
    "UsageResources",
    "UsageTenantStatus",
    "User",
    "UserCreate",
    "UserEnvelope",
    "UserEnvelopeStatus",
    "UserListEnvelope",
    "UserListEnvelopeStatus",
    "UserUpdate",
    "ValidationError",
    "ValidationErrorBody",
    "ValidationErrorBodyCode",
    "VM",
    "VmActionListResult",
    "VMCreate",
    "VMEnvelope",
    "VMEnvelopeStatus",
    "VmGrantArgs",
    "VmGrantArgsPermission",
    "VMHostStateType1",
    "VMHostStateType2Type1",
    "VMHostStateType3Type1",
    "VMListEnvelope",
    "VMListEnvelopeStatus",
    "VmListHostState",
    "VmListStatus",
    "VmPermissionRevokePermission",
    "VMReboot",
    "VMResize",
    "VMStart",
    "VMStatus",
    "VMStop",
)
