package bot

// Role is what a person may do. Roles are ordered: each includes the ones below.
type Role uint8

// Roles, lowest first. Never derived from nicknames or group cards, which
// anyone can set: owner is the bot account itself, operators are friends
// whose remark name (set only on the bot's phone) is listed in config, and
// group admins are granted per group by an operator and stored.
const (
	RoleMember Role = iota + 1
	RoleAdmin
	RoleOperator
	RoleOwner
)

func (r Role) key() string {
	switch r {
	case RoleOwner:
		return "role.owner"
	case RoleOperator:
		return "role.operator"
	case RoleAdmin:
		return "role.admin"
	}
	return "role.member"
}

// Name returns the role's user-facing name.
func (r Role) Name(lang Lang) string { return runtimeTexts[r.key()].In(lang) }

func (r Role) String() string {
	switch r {
	case RoleOwner:
		return "owner"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	case RoleMember:
		return "member"
	}
	return "none"
}
