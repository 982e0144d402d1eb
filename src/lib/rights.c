/*
 * rights.c — the admin-scope action names an administrator holds when no
 * admin policy restricts them (what /auth returns in "rights").  This is
 * data; the policy engine (policy issue) will compute rights from the
 * action definitions and the matching policies instead.
 */
#include "rights.h"

static const char *const admin_actions[] = {
	"enable", "disable", "set", "setdescription", "setpin", "setrandompin", "settokeninfo",
	"enrollpin", "resync", "reset", "revoke", "assign", "unassign", "importtokens", "delete",
	"userlist", "machinelist", "manage_machine_tokens", "fetch_authentication_items", "tokenrealms",
	"tokenlist", "getserial", "getrandom", "copytokenpin", "copytokenuser", "losttoken",
	"configwrite", "configdelete", "configread", "system_documentation", "policywrite",
	"policydelete", "policyread", "resolverwrite", "resolverdelete", "resolverread",
	"caconnectorwrite", "caconnectordelete", "caconnectorread", "mresolverwrite", "mresolverdelete",
	"mresolverread", "otp_pin_maxlength", "otp_pin_minlength", "otp_pin_contents",
	"otp_pin_set_random", "auditlog", "auditlog_age", "hide_audit_columns", "auditlog_download",
	"adduser", "updateuser", "deleteuser", "set_hsm_password", "getchallenges", "smtpserver_write",
	"smtpserver_read", "radiusserver_write", "radiusserver_read", "privacyideaserver_write",
	"privacyideaserver_read", "periodictask_write", "periodictask_read", "statistics_read",
	"statistics_delete", "eventhandling_write", "eventhandling_read", "smsgateway_write",
	"smsgateway_read", "clienttype", "managesubscription", "triggerchallenge",
	"set_custom_user_attributes", "delete_custom_user_attributes", "hide_tokeninfo",
	"tokengroup_list", "tokengroup_add", "tokengroup_delete", "serviceid_list", "serviceid_add",
	"serviceid_delete", "tokengroups", "container_info", "container_state", "container_description",
	"container_create", "container_delete", "container_add_token", "container_remove_token",
	"container_assign_user", "container_unassign_user", "container_realms", "container_list",
	"container_register", "container_unregister", "container_rollover", "container_template_create",
	"container_template_delete", "container_template_list", "hide_container_info", "enroll4EYES",
	"enrollPW", "enrollSPASS", "spass_otp_pin_maxlength", "spass_otp_pin_minlength",
	"spass_otp_pin_contents", "enrollPUSH", "enrollTIQR", "enrollPASSKEY", "enrollREMOTE",
	"enrollSSHKEY", "enrollDAPLUG", "enrollMOTP", "motp_force_server_generate", "enrollINDEXEDSECRET",
	"indexedsecret_force_attribute", "enrollTAN", "enrollOCRA", "enrollYUBICO", "enrollSMS",
	"sms_gateways", "enrollWEBAUTHN", "enrollTOTP", "totp_timestep", "totp_hashlib", "totp_otplen",
	"totp_force_server_generate", "totp_2step", "enrollYUBIKEY", "enrollAPPLSPEC",
	"applspec_force_server_generate", "enrollRADIUS", "enrollDAYPASSWORD", "daypassword_timestep",
	"daypassword_hashlib", "daypassword_otplen", "daypassword_force_server_generate",
	"enrollQUESTION", "enrollEMAIL", "enrollVASCO", "enrollPAPER", "enrollREGISTRATION",
	"enrollCERTIFICATE", "certificate_trusted_Attestation_CA_path", "enrollHOTP", "hotp_hashlib",
	"hotp_otplen", "hotp_2step", "hotp_force_server_generate",
	NULL,
};

json_t *rights_admin_all(void)
{
	json_t *a = json_array();
	for (const char *const *p = admin_actions; *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}
