"""The web kit the API and the pages share: who is signing in and may they (`auth`), the
request's context and read-your-writes (`context`), problem details (`problems`), how bodies and
parameters are read (`bodies`), CSV downloads (`downloads`), and the record's views both show
(`hour_history`, `verification`)."""
