package postgres

import "testing"

func TestOperationIsTheStatementsFirstWord(t *testing.T) {
	for sql, want := range map[string]string{
		"select 1": "SELECT",
		"\n\t  INSERT INTO orders (id) VALUES ($1)": "INSERT",
		"with x as (select 1) select * from x":      "WITH",
		"-- the pick\nupdate picks set done = $1":   "UPDATE",
		"begin isolation level serializable":        "BEGIN",
		"commit;":                                   "COMMIT",
		"(select 1)":                                "SQL",
		"":                                          "SQL",
	} {
		if got := Operation(sql); got != want {
			t.Errorf("Operation(%q) = %q, want %q", sql, got, want)
		}
	}
}
