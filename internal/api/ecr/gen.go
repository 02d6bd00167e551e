package ecr

//go:generate go run ../awsjson/modeltrim -o model.json ecr/2015-09-21
