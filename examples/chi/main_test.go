package main

import (
	"testing"

	"github.com/verso-api/verso/examples/internal/apitest"
)

func TestAPI(t *testing.T)    { apitest.Run(t, newHandler) }
func TestGolden(t *testing.T) { apitest.Golden(t, newHandler) }
