package webadmin

// Webhook is a URL that is POSTed each event of the chosen kinds.
type Webhook struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"` // kinds; empty: every kind
	Secret string   `json:"secret,omitempty"`
}
